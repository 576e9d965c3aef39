import { Logger } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  appliedKey,
  EFFECTS_PLACE_KEY,
  QUEUE_PREFIX,
} from '../../keyspace/index.js';
import { globMatches } from '../../messages/index.js';
import {
  jobMessageIds,
  MessageEnqueuer,
  type MessageJobData,
} from '../../queues/index.js';
import {
  createRedis,
  ReplicaBarrier,
  type RedisClient,
  type RedisTarget,
} from '@podium/redis';
import { DeliveryMetrics } from '../delivery-metrics.js';
import type { QueueSettings } from '../delivery.options.js';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import {
  MessageWork,
  type ListenerResult,
  type WorkOutcome,
} from '../work/message-work.js';

export interface GroupWorkerDeps {
  work: MessageWork;
  stats: ListenerStats;
  metrics: DeliveryMetrics;
  enqueuer: MessageEnqueuer;
  /** The shared command connection, to read applied markers on a retry. */
  redis: RedisClient;
  redisTarget: RedisTarget;
  /** REDIS_WAIT_REPLICAS: a job completes only once replicas have its effects. */
  replication: ReplicaBarrier;
  settings: QueueSettings;
  /** Names this process's workers in BullMQ's job.processedBy. */
  workerName: string;
}

/**
 * The BullMQ worker of one queued or durable group: a job carries one message or a batch,
 * and runs every member whose subscription hears each message (on any of its channels). A
 * listener that fails is retried alone (the others' markers are set): in a batch, each
 * failing message is given a job of its own with the tries left, so that it ends in the
 * failed set on its own; a one-message job is retried by BullMQ with its backoff and,
 * after the last try, waits in the failed set naming the listeners it failed for.
 */
export class GroupWorker {
  private readonly logger = new Logger('Listeners');
  private readonly worker: Worker<MessageJobData>;
  /** Each worker has a connection of its own: sharing the enqueueing connection put lock
   * renewals behind bursts of adds, and jobs ran twice after their locks lapsed. */
  readonly connection: RedisClient;
  /** Per set of channels: the members a message announced on them is for. */
  private members = new Map<string, RunningListener[]>();

  constructor(
    readonly group: ListenerGroup,
    private readonly deps: GroupWorkerDeps,
  ) {
    const { concurrency, lockMs, stalledCheckMs } = deps.settings;
    this.connection = createRedis(
      deps.redisTarget,
      `podium-worker-${group.name}`,
      {
        autoPipelining: false,
      },
    );
    this.worker = new Worker<MessageJobData>(
      deps.enqueuer.keys.queueName(group.name),
      (job) => this.process(job),
      {
        connection: this.connection,
        prefix: QUEUE_PREFIX,
        name: deps.workerName,
        concurrency,
        lockDuration: lockMs,
        stalledInterval: stalledCheckMs,
        // A crash leaves jobs stalled; effects are idempotent, so running them again is safe.
        maxStalledCount: 10,
        // BullMQ's spans of the job (the queues' telemetry, when the app traces).
        telemetry: deps.enqueuer.queues.telemetry,
      },
    );
    this.worker.on('error', (err) =>
      this.logger.warn(`[${group.name}] worker: ${err.message}`),
    );
  }

  get running(): boolean {
    return this.worker.isRunning();
  }

  /** Stops taking jobs and waits for the active ones. */
  async close(): Promise<void> {
    await this.worker.close();
    await this.connection.quit().catch(() => undefined);
  }

  private async process(job: Job<MessageJobData>): Promise<void> {
    const startedAt = performance.now();
    const ids = jobMessageIds(job.data);
    this.deps.metrics.batch(this.group.name, 'job', ids.length);
    // A retry (a later try, or a failed job retried through the API) runs only the members
    // that have not applied the message yet, on the message as it is now in Redis. So does
    // every job of a durable group: its members apply what they hear as it is announced,
    // and the job only does what that left undone (nothing, when they were up).
    const retry = job.attemptsMade > 0 || job.data.failed !== undefined;
    const done =
      retry || this.group.mode === 'durable'
        ? await this.appliedBy(ids)
        : undefined;
    // With REDIS_WAIT_REPLICAS a job completes only once replicas have its effects: else
    // effects written on a primary that a failover then discards would be lost while the
    // job's completion, written after the switch, stands. Not confirmed: the try fails, and
    // the next one finds the markers of what did reach the promoted replica.
    const effects = this.deps.replication.watch(
      this.deps.redis,
      this.effectsKeys(ids),
    );
    const outcomes = await this.deps.work.run(
      this.group.type,
      ids.map((id) => ({
        id,
        select: (message) =>
          this.membersFor(message).filter((l) => !done?.get(id)?.has(l.name)),
      })),
      { fresh: retry, duplicatesExpected: this.group.mode === 'durable' },
    );
    await effects.confirmed();
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (outcomes.length === 1)
      return this.settleOne(job, outcomes[0], startedAt, final, done);
    return this.settleBatch(job, outcomes, startedAt, final, done);
  }

  /** A job of one message: BullMQ retries it, or keeps it in the failed set after the last try. */
  private async settleOne(
    job: Job<MessageJobData>,
    outcome: WorkOutcome,
    startedAt: number,
    final: boolean,
    done?: Map<string, Set<string>>,
  ): Promise<void> {
    const { id, rejected } = outcome;
    const { stats } = this.deps;
    if (rejected) {
      const pending = this.pending(id, done);
      if (pending.length === 0) return;
      stats.rejected(id, pending, rejected);
      const failed = Object.fromEntries(
        pending.map((l) => [l.name, rejected.message]),
      );
      await job
        .updateData({ ...job.data, failed, counted: 'rejected' })
        .catch(() => undefined);
      throw new UnrecoverableError(rejected.message);
    }
    const results = this.resultsOf(outcome, done);
    const failed = results.filter((r) => r.outcome === 'failed');
    stats.settled(id, results, startedAt, final || failed.length === 0);
    if (failed.length === 0) return;
    const reasons = reasonsOf(failed);
    await job
      .updateData({ ...job.data, failed: reasons })
      .catch(() => undefined);
    throw new Error(
      failed
        .map((r) => `${r.listener.name}: ${reasons[r.listener.name]}`)
        .join('; '),
    );
  }

  /**
   * A batch: what applied is counted now; each message that failed (or whose id named no
   * readable message) gets a job of its own. When Redis gave none of the messages, the
   * whole batch is tried again instead.
   */
  private async settleBatch(
    job: Job<MessageJobData>,
    outcomes: WorkOutcome[],
    startedAt: number,
    final: boolean,
    done?: Map<string, Set<string>>,
  ): Promise<void> {
    const unread = outcomes.find((o) => o.unread)?.unread;
    if (unread && !final && outcomes.every((o) => o.unread)) throw unread;
    const apart = new Map<string, Record<string, string>>();
    for (const outcome of outcomes) {
      const { id, rejected } = outcome;
      if (rejected) {
        const pending = this.pending(id, done);
        if (pending.length > 0)
          apart.set(
            id,
            Object.fromEntries(pending.map((l) => [l.name, rejected.message])),
          );
        continue;
      }
      const results = this.resultsOf(outcome, done);
      const failed = results.filter((r) => r.outcome === 'failed');
      this.deps.stats.settled(id, results, startedAt, failed.length === 0);
      if (failed.length > 0) apart.set(id, reasonsOf(failed));
    }
    if (apart.size > 0)
      await this.deps.enqueuer.retryApart(this.group.name, job, apart);
  }

  /** A message Redis did not give: every member not done with it failed this try. */
  private resultsOf(
    { id, results, unread }: WorkOutcome,
    done?: Map<string, Set<string>>,
  ): ListenerResult[] {
    if (!unread) return results;
    return this.pending(id, done).map((listener) => ({
      listener,
      outcome: 'failed',
      error: unread,
      failedIn: 'redis',
    }));
  }

  /**
   * The members not done with a message: on a retry, those without a marker for it. A message
   * a retry cannot read (unread, or rejected: gone, malformed) fails for them alone; the
   * others applied it on an earlier try.
   */
  private pending(
    id: string,
    done?: Map<string, Set<string>>,
  ): RunningListener[] {
    const marked = done?.get(id);
    return marked
      ? this.group.listeners.filter((l) => !marked.has(l.name))
      : this.group.listeners;
  }

  /** A key in each place the messages' effects are written to (on a cluster, their slots). */
  private effectsKeys(ids: readonly string[]): string[] {
    const keyspace = this.deps.enqueuer.keys;
    const oneSlot = new Set(this.group.listeners.map((l) => l.oneSlot));
    const places = new Set(
      ids.flatMap((id) =>
        [...oneSlot].map((one) => keyspace.effectsPlace(id, one)),
      ),
    );
    return [...places].map((place) => keyspace.key(place, EFFECTS_PLACE_KEY));
  }

  /** Per message, the listeners that have an applied (or skipped) marker for it. */
  private async appliedBy(ids: string[]): Promise<Map<string, Set<string>>> {
    const { redis } = this.deps;
    const keyspace = this.deps.enqueuer.keys;
    // The markers live with each member's effects: the message's part, or the one slot.
    const oneSlot = [...new Set(this.group.listeners.map((l) => l.oneSlot))];
    const marked = await Promise.all(
      ids.map(async (id) => {
        const places = oneSlot.map((one) => keyspace.effectsPlace(id, one));
        const fields = await Promise.all(
          [...new Set(places)].map((place) =>
            redis.hkeys(keyspace.key(place, appliedKey(id))),
          ),
        );
        return new Set(fields.flat());
      }),
    );
    return new Map(ids.map((id, i) => [id, marked[i]]));
  }

  /** The members whose subscription hears the message: one of its channels matches. */
  private membersFor(message: unknown): RunningListener[] {
    if (this.members.size > 10_000) this.members = new Map();
    const channels = this.group.type.channels(message);
    const key = channels.join('\n');
    let members = this.members.get(key);
    if (!members) {
      members = this.group.listeners.filter((l) =>
        channels.some((channel) => globMatches(l.pattern, channel)),
      );
      this.members.set(key, members);
    }
    return members;
  }
}

function reasonsOf(failed: ListenerResult[]): Record<string, string> {
  return Object.fromEntries(
    failed.map((r) => [r.listener.name, r.error?.message ?? 'failed']),
  );
}
