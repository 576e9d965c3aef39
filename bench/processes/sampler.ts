/**
 * Child side of the measurement: each listeners process (podium's and the baselines') calls
 * record(listener, orderId) when a listener's effect was applied, with a timestamp on the
 * clock the bench uses for "purchase recorded" (epoch ms with sub-ms resolution). Samples go
 * to the bench over IPC in batches every 200 ms, so the process keeps almost none of them.
 */
import type {
  ChildConfig,
  ChildMessage,
  ParentMessage,
  SamplesMessage,
} from '../lib/model.js';

export const now = (): number => performance.timeOrigin + performance.now();

export function childConfig(): ChildConfig {
  const raw = process.env.BENCH_CHILD;
  if (!raw)
    throw new Error(
      'BENCH_CHILD is not set: this process is started by the bench (npm run bench)',
    );
  return JSON.parse(raw) as ChildConfig;
}

export class Sampler {
  private readonly index = new Map<string, number>();
  private l: number[] = [];
  private ids: string[] = [];
  private t: number[] = [];
  private readonly applied: number[];
  private pendingOf: () => number[] = () => [];
  private reconnectsOf: () => number = () => 0;
  errors = 0;

  constructor(readonly names: readonly string[]) {
    names.forEach((name, i) => this.index.set(name, i));
    this.applied = names.map(() => 0);
  }

  record(listener: string, orderId: string): void {
    const i = this.index.get(listener);
    if (i === undefined) return;
    this.l.push(i);
    this.ids.push(orderId);
    this.t.push(now());
    this.applied[i]++;
  }

  /** Starts the periodic batches and answers the bench's requests; then tells the bench it is ready. */
  start(options: {
    pending?: () => number[];
    reconnects?: () => number;
    onStop: () => Promise<void>;
    /** The process's HTTP port (podium's /metrics), told to the bench with 'ready'. */
    httpPort?: number;
  }): void {
    if (options.pending) this.pendingOf = options.pending;
    if (options.reconnects) this.reconnectsOf = options.reconnects;
    setInterval(() => this.send(), 200).unref();
    process.on('message', (message: ParentMessage) => {
      if (message.type === 'flush') this.send(message.seq);
      if (message.type === 'stop') {
        this.send();
        void options.onStop().finally(() => process.exit(0));
      }
    });
    process.on('disconnect', () => process.exit(0)); // the bench is gone
    this.post({
      type: 'ready',
      startedMs: now() - performance.timeOrigin,
      ...(options.httpPort !== undefined && { httpPort: options.httpPort }),
    });
  }

  private send(flush?: number): void {
    const memory = process.memoryUsage();
    const message: SamplesMessage = {
      type: 'samples',
      l: Uint8Array.from(this.l),
      ids: this.ids.join(','),
      t: Float64Array.from(this.t),
      applied: [...this.applied],
      pending: this.pendingOf(),
      reconnects: this.reconnectsOf(),
      errors: this.errors,
      heapUsedMb: memory.heapUsed / 2 ** 20,
      heapTotalMb: memory.heapTotal / 2 ** 20,
      ...(flush !== undefined && { flush }),
    };
    this.l = [];
    this.ids = [];
    this.t = [];
    this.post(message);
  }

  private post(message: ChildMessage): void {
    if (process.connected) process.send!(message);
  }
}
