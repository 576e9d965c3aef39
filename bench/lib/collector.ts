import type { SamplesMessage } from './model.js';
import { percentiles, type Percentiles } from './stats.js';

/**
 * Gathers the "effect applied" samples of one run (across process restarts) and turns them,
 * with the publisher's "purchase recorded" times, into latencies.
 */
export class Collector {
  private readonly ids: string[][];
  private readonly times: number[][];
  /** Samples received, per listener (effects applied, as the processes saw them). */
  readonly applied: number[];

  constructor(readonly names: readonly string[]) {
    this.ids = names.map(() => []);
    this.times = names.map(() => []);
    this.applied = names.map(() => 0);
  }

  add(message: SamplesMessage): void {
    if (message.t.length === 0) return;
    const ids = message.ids.split(',');
    for (let k = 0; k < message.t.length; k++) {
      const i = message.l[k];
      this.ids[i].push(ids[k]);
      this.times[i].push(message.t[k]);
      this.applied[i]++;
    }
  }

  /** Applied-at times of each listener for the orders in `only`. */
  appliedAt(only: ReadonlySet<string>): Map<string, number>[] {
    return this.names.map((_, i) => {
      const at = new Map<string, number>();
      const ids = this.ids[i];
      const times = this.times[i];
      for (let k = 0; k < ids.length; k++)
        if (only.has(ids[k]) && !at.has(ids[k])) at.set(ids[k], times[k]);
      return at;
    });
  }

  /** The last time any listener applied one of these orders. */
  lastApplied(only: ReadonlySet<string>): number {
    let last = Number.NEGATIVE_INFINITY;
    this.times.forEach((times, i) => {
      const ids = this.ids[i];
      for (let k = 0; k < times.length; k++)
        if (times[k] > last && only.has(ids[k])) last = times[k];
    });
    return last;
  }

  /**
   * The longest time (ms) from `from` on during which no listener applied any of these
   * orders: a stall, e.g. workers waiting behind a burst of enqueues.
   */
  longestGap(only: ReadonlySet<string>, from: number, to: number): number {
    const times: number[] = [];
    this.times.forEach((list, i) => {
      const ids = this.ids[i];
      for (let k = 0; k < list.length; k++)
        if (only.has(ids[k])) times.push(list[k]);
    });
    times.sort((a, b) => a - b);
    let previous = from;
    let longest = 0;
    for (const t of [...times, to]) {
      longest = Math.max(longest, t - previous);
      previous = Math.max(previous, t);
    }
    return longest;
  }

  /** Latency (ms) from "purchase recorded" to "effect applied", per listener and pooled. */
  latencies(
    t0: ReadonlyMap<string, number>,
    only: ReadonlySet<string>,
  ): { perListener: Record<string, Percentiles>; all: Percentiles } {
    const pooled: number[] = [];
    const perListener: Record<string, Percentiles> = {};
    this.appliedAt(only).forEach((at, i) => {
      const values: number[] = [];
      for (const [id, t1] of at) {
        const start = t0.get(id);
        if (start !== undefined) values.push(t1 - start);
      }
      for (const v of values) pooled.push(v);
      perListener[this.names[i]] = percentiles(values);
    });
    return { perListener, all: percentiles(pooled) };
  }
}
