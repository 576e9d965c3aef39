import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  failedMessagesKey,
  Keyspace,
  listenerStatsKey,
} from '../keyspace/index.js';
import { readListenerCounts, unaccountedOrders } from '../queues/index.js';
import { REDIS, type RedisClient } from '@podium/redis';
import { DeliveryMetrics } from './delivery-metrics.js';
import type { RunningListener } from './listener-group.js';
import type { ListenerResult } from './work/message-work.js';

export type OutcomeObserver = (
  listener: string,
  id: string,
  outcome: ListenerResult['outcome'] | 'rejected',
) => void;

/** Writes Redis refused (down, out of memory) waiting to be made again, at most this many. */
const MAX_UNSAVED = 10_000;
const RESAVE_EVERY_MS = 1000;

/**
 * Where the outcome of every message for every listener goes: the Prometheus counters of this
 * process, the cluster-wide counters in podium:stats:<listener> (applied, skipped and
 * duplicates are counted inside the effects script; rejected, failed and lost here), the
 * failed set of ephemeral listeners, the log, and any observer (a bench or a test timing
 * the applied effects). A counter or failed-set write that Redis refuses is kept and made
 * again once a second until Redis takes it, so a failure during an outage still shows.
 */
@Injectable()
export class ListenerStats implements OnApplicationShutdown {
  private readonly logger = new Logger('Listeners');
  private readonly observers: OutcomeObserver[] = [];
  private readonly unsaved: (() => Promise<unknown>)[] = [];
  private resaving?: NodeJS.Timeout;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly metrics: DeliveryMetrics,
    private readonly keyspace: Keyspace = Keyspace.singleRedis,
  ) {}

  /** Calls `observer` with every outcome from now on (applied, duplicate, skipped, failed, rejected). */
  observe(observer: OutcomeObserver): void {
    this.observers.push(observer);
  }

  /**
   * Final outcomes of one message. A failure counts only when `final` (ephemeral: always; a
   * queue: after its last try); before that it is a retry.
   */
  settled(
    id: string,
    results: readonly ListenerResult[],
    startedAt: number,
    final = true,
  ): void {
    for (const { listener, outcome, error } of results) {
      if (outcome === 'failed') {
        if (!final) {
          this.metrics.retry(listener.name);
          this.logger.warn(
            `[${listener.name}] ${listener.type.name} ${id} failed, will retry: ${error?.message}`,
          );
          continue;
        }
        this.logger.error(
          `[${listener.name}] ${listener.type.name} ${id} failed: ${error?.message}`,
        );
        void this.count(listener.name, 'failed');
      }
      this.metrics.messageProcessed(listener.name, outcome, startedAt);
      this.notify(listener.name, id, outcome);
    }
  }

  /** An id that names no readable message, for the listeners that heard it. */
  rejected(
    id: string,
    listeners: readonly RunningListener[],
    err: Error,
  ): void {
    this.logger.warn(
      `[${listeners.map((l) => l.name).join(', ')}] rejected message: ${err.message}`,
    );
    for (const listener of listeners) {
      this.metrics.messageProcessed(listener.name, 'rejected');
      void this.count(listener.name, 'rejected');
      this.notify(listener.name, id, 'rejected');
    }
  }

  /**
   * A message that could not even be kept for later (its enqueue failed for good): logged
   * as an error, counted in Prometheus and, when Redis takes it, in the listener's `lost`.
   */
  lost(id: string, listeners: readonly RunningListener[], err: Error): void {
    this.logger.error(
      `[${listeners.map((l) => l.name).join(', ')}] ${listeners[0]?.type.name ?? 'message'} ${id} LOST: ${err.message}`,
    );
    for (const listener of listeners) {
      this.metrics.lost(listener.name);
      void this.count(listener.name, 'lost');
    }
  }

  /**
   * Keeps an ephemeral listener's failed message in its failed set, for inspection and retry
   * through the API. `counted` names the counter it was counted in, which a retry takes back.
   */
  async keepFailed(
    listener: string,
    id: string,
    err: Error,
    counted: 'failed' | 'rejected' = 'failed',
  ): Promise<void> {
    const entry = JSON.stringify({
      error: err.message,
      failedAt: new Date().toISOString(),
      counted,
    });
    await this.save(() =>
      this.redis.hset(failedMessagesKey(listener), id, entry),
    );
  }

  onApplicationShutdown(): void {
    clearInterval(this.resaving);
    if (this.unsaved.length > 0)
      this.logger.error(
        `${this.unsaved.length} counter and failed-set write(s) Redis refused are dropped at shutdown`,
      );
  }

  /**
   * Messages the publisher announced to each listener that it has not accounted for
   * (applied, skipped, failed or counted lost): for a listener without a queue, what it
   * missed. Undefined for a listener whose counters Redis did not give.
   */
  async unaccounted(
    listeners: readonly string[],
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    await Promise.all(
      listeners.map(async (listener) => {
        const counts = await readListenerCounts(
          this.redis,
          this.keyspace,
          listener,
        ).catch(() => undefined);
        if (counts) out.set(listener, unaccountedOrders(counts));
      }),
    );
    return out;
  }

  private notify(
    listener: string,
    id: string,
    outcome: ListenerResult['outcome'] | 'rejected',
  ): void {
    for (const observer of this.observers) observer(listener, id, outcome);
  }

  private async count(
    listener: string,
    field: 'rejected' | 'failed' | 'lost',
  ): Promise<void> {
    await this.save(() =>
      this.redis.hincrby(
        this.keyspace.key(
          this.keyspace.sharedPlace,
          listenerStatsKey(listener),
        ),
        field,
        1,
      ),
    );
  }

  /** Makes a write now, or keeps it to make again while Redis refuses it. */
  private async save(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (this.unsaved.length >= MAX_UNSAVED) {
        this.logger.error(
          `Redis refuses writes (${(err as Error).message}) and ${MAX_UNSAVED} are waiting: one more is dropped`,
        );
        return;
      }
      if (this.unsaved.length === 0)
        this.logger.warn(
          `Redis refuses a counter or failed-set write, kept to make again: ${(err as Error).message}`,
        );
      this.unsaved.push(write);
      this.resaving ??= setInterval(
        () => void this.resave(),
        RESAVE_EVERY_MS,
      ).unref();
    }
  }

  private resaveRunning = false;

  private async resave(): Promise<void> {
    if (this.resaveRunning) return;
    this.resaveRunning = true;
    try {
      while (this.unsaved.length > 0) {
        await this.unsaved[0]();
        this.unsaved.shift();
      }
      clearInterval(this.resaving);
      this.resaving = undefined;
    } catch {
      // Still refused: next time.
    } finally {
      this.resaveRunning = false;
    }
  }
}
