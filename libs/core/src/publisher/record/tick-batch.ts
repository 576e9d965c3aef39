/**
 * Gathers what callers ask for during one tick and does it once for all of them, at the
 * end of the tick (setImmediate: nothing waits on a timer, so a lone call is not delayed).
 * Concurrent publishes share one job per group this way, and one WAIT.
 */
export class TickBatch<T, R> {
  private pending: {
    item: T;
    resolve: (result: R) => void;
    reject: (err: unknown) => void;
  }[] = [];

  constructor(private readonly run: (items: T[]) => Promise<R>) {}

  /** Resolves with the result of the run that carried `item`. */
  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.run(batch.map((b) => b.item)).then(
      (result) => batch.forEach((b) => b.resolve(result)),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
  }
}
