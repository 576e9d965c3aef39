import { setTimeout as sleep } from 'node:timers/promises';
import type { Order } from '@podium/orders';
import { readDurableSubscriptions, readListenerDirectory } from '@podium/core';
import { ListenersProcess, logBaseFor } from '../lib/child.js';
import { Collector } from '../lib/collector.js';
import { Driver } from '../lib/driver.js';
import {
  addSnapshots,
  batchFigures,
  diffSnapshots,
  fetchHistograms,
  type BatchFigure,
  type HistogramSeries,
  type HistogramSnapshot,
} from '../lib/metrics.js';
import { listenerNames, type SystemSpec, type Variant } from '../lib/model.js';
import { RunMonitor } from '../lib/monitor.js';
import { expectedCounts } from '../lib/orders.js';
import type { Plan } from '../lib/plan.js';
import type { Progress } from '../lib/progress.js';
import type { BenchRedis } from '../lib/server.js';
import { cpuSeconds, ownCpuSeconds, type CpuUse } from '../lib/cpu.js';
import {
  traceBenchPublisher,
  tracingEnv,
  type OtlpSink,
} from '../lib/tracing.js';
import { verify, type Verification } from '../lib/verify.js';
import { BULLMQ_PREFIX } from '../baselines/bullmq-queues.js';
import { ORDERS_STREAM } from '../baselines/orders-stream.js';

export interface Ctx {
  plan: Plan;
  redis: BenchRedis;
  logDir: string;
  progress: Progress;
  /** Where the traced systems' spans go. */
  sink: OtlpSink;
}

/** What every run reports besides its own figures. */
export interface RunCommon {
  system: string;
  rep: number;
  /** RSS peak of the listeners process(es), MB (VmHWM). */
  peakRssMb: number;
  /** RSS of the (first) listeners process right after start-up, MB. */
  restingRssMb: number;
  /** Most V8 heap in use seen in the listeners process (sampled every 200 ms), MB. */
  peakHeapUsedMb: number;
  /** Largest output buffer Redis held for a pub/sub client, kB. */
  peakSubscriberBufferKb: number;
  /** Subscribers Redis dropped over client-output-buffer-limit pubsub during the run. */
  outputBufferDisconnects: number;
  reconnects: number;
  /** Warning and error lines the listeners process logged. */
  logProblems: { count: number; first: string[] };
  /** Milliseconds from spawn to subscribed. */
  startupMs: number;
  verification: Verification;
  /** Publishes that failed. */
  publishErrors: number;
  /** Where the run's wall time went, seconds: start-up, warm-up, the measurement, stop, checks. */
  timingsS: Record<string, number>;
  /**
   * podium: the batch sizes reached from the end of the warm-up to the end of the run, in the
   * listeners process(es) (podium_batch_orders) and in the publisher (podium_publisher_job_orders).
   */
  batches?: BatchFigure[];
  /** podium: the groups whose jobs the publisher queues (durable subscriptions), so a missing publisher figure shows. */
  durableGroups?: string[];
}

/** Where a window of batch figures starts: the histograms as they were then. */
export interface BatchMark {
  listeners: HistogramSnapshot;
  publisher: HistogramSnapshot;
}

export interface SessionOptions {
  /** Figures the monitor samples every 250 ms besides RSS and the subscriber's buffer. */
  extra?: (
    s: Session,
  ) => Promise<Record<string, number>> | Record<string, number>;
  /** More settings for the listeners process. */
  env?: Record<string, string>;
  /** false: the private Redis is flushed but the seed's events are not created (the HTTP scenario creates them through the box office). */
  seedEvents?: boolean;
  /** A traced system: whether the bench's own publisher is traced too (false when the box office publishes). Default true. */
  tracePublisher?: boolean;
}

interface CpuMark {
  listeners: number;
  redis: number;
  bench: number;
  wall: number;
}

export class Session {
  readonly names: string[];
  readonly collector: Collector;
  readonly driver: Driver;
  readonly published: Order[] = [];
  proc!: ListenersProcess;
  monitor!: RunMonitor;
  /** podium: the BullMQ queue of each listener that has one (its group's), as the process announced it. */
  private queues = new Map<string, string>();
  /** podium: the durable subscriptions' groups, as the process registered them. */
  durableGroups: string[] = [];
  private readonly disconnectsBefore: number;
  private reconnectsBefore = 0;
  /** CPU seconds of listeners processes that were replaced (killed). */
  private cpuOfGone = 0;
  firstRestingKb = Number.NaN;
  readonly timings: Record<string, number> = {};
  private readonly openedAt = performance.now();
  readonly logBase: string;
  /** Batch histograms of listeners processes that were replaced (killed), summed. */
  private batchesOfGone: HistogramSnapshot = new Map();
  /** The start of the run's batch window (the end of the warm-up). */
  private runMark: BatchMark = { listeners: new Map(), publisher: new Map() };
  /** Where the publisher's job sizes come from: the bench's publisher, or (HTTP) the box office's /metrics. */
  publisherHistograms: () => Promise<HistogramSnapshot> = () =>
    this.driver.histograms();

  private constructor(
    readonly ctx: Ctx,
    readonly system: SystemSpec,
    readonly variant: Variant,
    tag: string,
    readonly env: Record<string, string> = {},
    /** A traced run's tracing of the bench's publisher. */
    private readonly tracing?: ReturnType<typeof traceBenchPublisher>,
  ) {
    this.names = listenerNames(variant);
    this.collector = new Collector(this.names);
    this.driver = Driver.create(
      ctx.redis.url,
      system.kind,
      variant,
      {},
      tracing?.telemetry,
    );
    this.disconnectsBefore = ctx.redis.outputBufferDisconnects();
    this.logBase = logBaseFor(ctx.logDir, tag, system.id);
  }

  /** Flushes the private Redis, starts the system's listeners process and a monitor. */
  static async open(
    ctx: Ctx,
    system: SystemSpec,
    variant: Variant,
    tag: string,
    {
      extra,
      env,
      seedEvents = true,
      tracePublisher = true,
    }: SessionOptions = {},
  ): Promise<Session> {
    if (seedEvents) await ctx.redis.fresh();
    else await ctx.redis.flush();
    const tracing =
      system.traced && tracePublisher
        ? traceBenchPublisher(ctx.sink)
        : undefined;
    const session = new Session(ctx, system, variant, tag, env, tracing);
    const t = performance.now();
    session.proc = await session.spawn();
    session.timings.startup = (performance.now() - t) / 1000;
    session.firstRestingKb = session.proc.rssAtReadyKb;
    session.monitor = new RunMonitor(
      ctx.redis,
      () => (session.proc.isAlive ? session.proc : undefined),
      extra ? () => extra(session) : undefined,
    ).start();
    return session;
  }

  async spawn(): Promise<ListenersProcess> {
    const proc = await ListenersProcess.start({
      system: this.system,
      variant: this.variant,
      redisUrl: this.ctx.redis.url,
      logBase: this.logBase,
      onSamples: (m) => this.collector.add(m),
      // podium's recipe for a slow listener: a group of its own, so it does not hold the others back.
      env: {
        ...(this.system.kind === 'podium' && this.variant === 'slow'
          ? { DELIVERY_GROUP_SLOW_INVOICES: 'slow' }
          : {}),
        ...(this.system.traced ? tracingEnv(this.ctx.sink) : {}),
        ...this.env,
      },
    });
    if (this.system.kind === 'podium') {
      // Which queue each listener's orders wait in, from podium's listener directory (what GET /listeners shows).
      const entries = await readListenerDirectory(this.ctx.redis.client);
      this.queues = new Map(
        entries.flatMap((e) => (e.queue ? [[e.name, e.queue] as const] : [])),
      );
      this.durableGroups = (
        await readDurableSubscriptions(this.ctx.redis.client)
      ).map((d) => d.group);
    }
    return proc;
  }

  /** podium: the BullMQ queue a listener's orders wait in, if any. */
  queueOf(listener: string): string | undefined {
    return this.queues.get(listener);
  }

  /** Replaces the listeners process (after a crash). */
  async restart(): Promise<void> {
    this.reconnectsBefore += this.proc.reconnects;
    this.proc = await this.spawn();
  }

  /** kill -9 the listeners process (its CPU time, peak RSS and batch figures are kept for the run). */
  async kill(): Promise<void> {
    // A few ms before the kill, so the batches of the process that dies count in the run.
    if (this.proc.httpUrl)
      this.batchesOfGone = addSnapshots(
        this.batchesOfGone,
        await fetchHistograms(this.proc.httpUrl),
      );
    const cpu = cpuSeconds(this.proc.pid);
    this.monitor.notePeak(this.proc);
    await this.proc.kill();
    if (Number.isFinite(cpu)) this.cpuOfGone += cpu;
  }

  cpuMark(): CpuMark {
    return {
      listeners: this.cpuOfGone + cpuSeconds(this.proc.pid),
      redis: cpuSeconds(this.ctx.redis.pid),
      bench: ownCpuSeconds(),
      wall: performance.now() / 1000,
    };
  }

  cpuSince(mark: CpuMark): CpuUse {
    const end = this.cpuMark();
    return {
      listeners: round(end.listeners - mark.listeners, 2),
      redis: round(end.redis - mark.redis, 2),
      bench: round(end.bench - mark.bench, 2),
      wall: round(end.wall - mark.wall, 2),
    };
  }

  /** podium's batch histograms now: the listeners process(es) of the run, and the publisher. */
  async batchMark(): Promise<BatchMark> {
    const live: HistogramSnapshot =
      this.proc.isAlive && this.proc.httpUrl
        ? await fetchHistograms(this.proc.httpUrl)
        : new Map<string, HistogramSeries>();
    return {
      listeners: addSnapshots(this.batchesOfGone, live),
      publisher: await this.publisherHistograms(),
    };
  }

  /** The batch sizes reached since a mark. */
  async batchesSince(mark: BatchMark): Promise<BatchFigure[]> {
    const now = await this.batchMark();
    return batchFigures(
      new Map([
        ...diffSnapshots(now.listeners, mark.listeners),
        ...diffSnapshots(now.publisher, mark.publisher),
      ]),
    );
  }

  /** Starts the run's batch window (the warm-up does it as it ends). */
  async startBatchWindow(): Promise<void> {
    if (this.system.kind === 'podium') this.runMark = await this.batchMark();
  }

  /** Seconds since the monitor started (the time axis of monitor points). */
  elapsedS(): number {
    return this.monitor.elapsedS();
  }

  /** Orders each listener still had waiting: in its BullMQ queue, its consumer group, or the baseline's in-process queue. */
  private async waiting(): Promise<Record<string, number>> {
    const waiting: Record<string, number> = {};
    for (const [i, name] of this.names.entries()) {
      switch (this.system.kind) {
        case 'seed':
          waiting[name] = this.proc.pending[i] ?? 0;
          break;
        case 'bullmq':
          waiting[name] = await this.ctx.redis.queueDepth(name, BULLMQ_PREFIX);
          break;
        case 'streams':
          waiting[name] = await this.ctx.redis.streamBacklog(
            ORDERS_STREAM,
            name,
          );
          break;
        case 'podium': {
          const queue = this.queueOf(name);
          if (queue) waiting[name] = await this.ctx.redis.queueDepth(queue);
          break;
        }
        case 'nest':
          break; // Nest runs every message as it arrives: nothing waits
      }
    }
    return waiting;
  }

  /** The crash scenario must wait for BullMQ's job locks to expire before the dead worker's jobs come back. */
  recoversThroughJobLocks(): boolean {
    if (this.system.kind === 'bullmq') return true;
    return this.system.kind === 'podium' && this.queues.size > 0;
  }

  expected(orders: readonly Order[] = this.published): number[] {
    return expectedCounts(orders, this.names, this.variant);
  }

  /** Publishes warm-up orders at 1,000/s and waits until they are applied. */
  async warmUp(orders: readonly Order[]): Promise<void> {
    const t = performance.now();
    await this.paced(orders, 1000);
    const ok = await this.waitApplied({ deadlineS: 60, idleS: 10 });
    if (!ok)
      throw new Error(
        `${this.system.label}: the warm-up orders were not all applied (${String(this.collector.applied)} of ${String(this.expected())})`,
      );
    await sleep(this.ctx.plan.pauseMs);
    await this.startBatchWindow();
    this.timings.warmup = (performance.now() - t) / 1000;
  }

  paced(
    orders: readonly Order[],
    rate: number,
    onTick?: (published: number) => void,
  ) {
    for (const o of orders) this.published.push(o);
    return this.driver.paced(orders, rate, onTick);
  }

  saturate(orders: readonly Order[], concurrency: number) {
    for (const o of orders) this.published.push(o);
    return this.driver.saturate(orders, concurrency);
  }

  /**
   * Waits until the listeners process reported every effect expected of the orders published
   * so far; false at the deadline, or when nothing was applied for idleS seconds.
   */
  async waitApplied({
    deadlineS,
    idleS,
    counts = () => this.collector.applied,
  }: {
    deadlineS: number;
    idleS: number;
    counts?: () => number[] | Promise<number[]>;
  }): Promise<boolean> {
    const expected = this.expected();
    const deadline = performance.now() + deadlineS * 1000;
    let lastTotal = -1;
    let lastChange = performance.now();
    for (;;) {
      const applied = await counts();
      if (applied.every((n, i) => n >= expected[i])) {
        await this.proc.flush();
        return true;
      }
      const total = applied.reduce((a, b) => a + b, 0);
      if (total !== lastTotal) {
        lastTotal = total;
        lastChange = performance.now();
      }
      if (
        performance.now() > deadline ||
        performance.now() - lastChange > idleS * 1000
      ) {
        await this.proc.flush();
        return false;
      }
      await sleep(50);
    }
  }

  /** Stops the process, checks the keys, and returns the common figures. */
  async close(rep: number): Promise<RunCommon> {
    const t = performance.now();
    this.timings.measure =
      (t - this.openedAt) / 1000 -
      (this.timings.startup ?? 0) -
      (this.timings.warmup ?? 0);
    await this.proc.flush();
    const seedWaiting = this.system.kind === 'seed' ? await this.waiting() : {};
    const batches =
      this.system.kind === 'podium'
        ? await this.batchesSince(this.runMark)
        : undefined;
    await this.proc.stop();
    await this.monitor.stop();
    this.monitor.notePeak(this.proc);
    await this.driver.close();
    await this.tracing?.stop();
    const waiting =
      this.system.kind === 'seed' ? seedWaiting : await this.waiting();
    const t2 = performance.now();
    this.timings.stop = (t2 - t) / 1000;
    const verification = await verify(
      this.ctx.redis.client,
      this.published,
      this.variant,
      waiting,
    );
    this.timings.check = (performance.now() - t2) / 1000;
    return {
      system: this.system.id,
      rep,
      peakRssMb: round(this.monitor.peakRssMb, 1),
      restingRssMb: round(this.firstRestingKb / 1024, 1),
      peakHeapUsedMb: round(this.monitor.peakHeapUsedMb, 1),
      peakSubscriberBufferKb: round(this.monitor.peakOmemKb, 1),
      outputBufferDisconnects:
        this.ctx.redis.outputBufferDisconnects() - this.disconnectsBefore,
      reconnects: this.reconnectsBefore + this.proc.reconnects,
      logProblems: this.proc.problems(),
      startupMs: round(this.proc.readyMs, 0),
      verification,
      publishErrors: this.driver.errors,
      timingsS: Object.fromEntries(
        Object.entries(this.timings).map(([k, v]) => [k, round(v, 2)]),
      ),
      ...(batches && {
        batches: batches.map(roundBatch),
        durableGroups: this.durableGroups,
      }),
    };
  }

  /** On a failed run: leave nothing running. */
  async abort(): Promise<void> {
    await this.monitor?.stop().catch(() => undefined);
    await this.proc?.kill().catch(() => undefined);
    await this.driver.close().catch(() => undefined);
    await this.tracing?.stop().catch(() => undefined);
  }
}

export const round = (value: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** A batch figure as results.json keeps it. */
export const roundBatch = (b: BatchFigure): BatchFigure => ({
  ...b,
  mean: round(b.mean, 2),
});

/** Runs fn on an open session, closing it (or killing everything) whatever happens. */
export async function withSession<T>(
  ctx: Ctx,
  system: SystemSpec,
  variant: Variant,
  tag: string,
  fn: (session: Session) => Promise<T>,
  options?: SessionOptions,
): Promise<T> {
  const session = await Session.open(ctx, system, variant, tag, options);
  try {
    return await fn(session);
  } catch (err) {
    await session.abort();
    throw err;
  }
}

/** Seconds spent in each named step of a run: call the returned lap(name) at the end of each. */
export function stepTimer(): {
  timings: Record<string, number>;
  lap: (name: string) => void;
} {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    timings[name] = round((performance.now() - t) / 1000, 2);
    t = performance.now();
  };
  return { timings, lap };
}
