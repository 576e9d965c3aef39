/**
 * Counts the announcements this process has taken and not finished, and tells the
 * subscriber to stop reading at the cap and to read again once half of them are done.
 * While it does not read, the backlog waits in Redis's output buffer for the subscriber
 * (and the kernel's socket buffers), not in this process's memory.
 */
export class InFlight {
  private count = 0;
  private paused = false;
  private readonly work = new Set<Promise<unknown>>();

  constructor(
    readonly max: number,
    private readonly flow: { pause(): void; resume(): void },
  ) {}

  get size(): number {
    return this.count;
  }

  /** Counts one announcement now, before its work starts (so a burst is counted as it arrives). */
  reserve(): void {
    if (++this.count >= this.max && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** The work of `units` reserved announcements: released when it settles. */
  track(work: Promise<unknown>, units = 1): void {
    this.work.add(work);
    void work.finally(() => {
      this.work.delete(work);
      this.release(units);
    });
  }

  /** Resolves once every unit taken so far has settled (for a graceful shutdown). */
  async drain(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  private release(units: number): void {
    this.count -= units;
    if (this.count <= this.max / 2 && this.paused) {
      this.paused = false;
      this.flow.resume();
    }
  }
}
