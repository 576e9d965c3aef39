import type { ListenersProcess } from './child.js';
import type { BenchRedis } from './server.js';

export interface Point {
  /** Seconds since the monitor started. */
  t: number;
  /** RSS of the listeners process, MB (NaN while none runs). */
  rssMb: number;
  /** Largest pub/sub client output buffer in Redis, kB. */
  omemKb: number;
  /** Scenario-specific figures (backlog, queue depth...). */
  [extra: string]: number;
}

/** Samples the running listeners process and Redis every 250 ms during a run. */
export class RunMonitor {
  readonly points: Point[] = [];
  peakRssMb = 0;
  peakOmemKb = 0;
  peakHeapUsedMb = 0;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private readonly startMs = performance.now();

  constructor(
    private readonly redis: BenchRedis,
    private readonly proc: () => ListenersProcess | undefined,
    private readonly extra: () =>
      Promise<Record<string, number>> | Record<string, number> = () => ({}),
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.tick();
    const proc = this.proc();
    if (proc) this.notePeak(proc);
  }

  elapsedS(): number {
    return (performance.now() - this.startMs) / 1000;
  }

  /** Folds in a process's peak RSS (VmHWM), e.g. just before it is killed. */
  notePeak(proc: ListenersProcess): void {
    if (proc.hwmKb > 0)
      this.peakRssMb = Math.max(this.peakRssMb, proc.hwmKb / 1024);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const proc = this.proc();
      const rssKb = proc?.sample() ?? Number.NaN;
      if (proc) this.notePeak(proc);
      const omem = await this.redis.pubsubOutputBufferMax().catch(() => 0);
      this.peakOmemKb = Math.max(this.peakOmemKb, omem / 1024);
      const extra = await this.extra();
      this.points.push({
        t: (performance.now() - this.startMs) / 1000,
        rssMb: rssKb / 1024,
        heapUsedMb: proc?.heap.usedMb ?? Number.NaN,
        heapTotalMb: proc?.heap.totalMb ?? Number.NaN,
        omemKb: omem / 1024,
        ...extra,
      });
      if (proc)
        this.peakHeapUsedMb = Math.max(
          this.peakHeapUsedMb,
          Number.isFinite(proc.heap.usedMb) ? proc.heap.usedMb : 0,
        );
    } finally {
      this.busy = false;
    }
  }
}
