import type { Job } from 'bullmq';
import {
  appliedKey,
  Keyspace,
  OUTBOX,
  queuedField,
  type Place,
} from '../keyspace/index.js';
import { LuaScript, type RedisClient } from '@podium/redis';
import {
  GroupQueues,
  jobName,
  messageJobOptions,
  retryJobId,
  type MessageJobData,
  type RetryPolicy,
} from './group-queue.js';
import { RecordPlaces } from './record-places.js';

/** The outbox entry of an order that must be in a group's queue (in Lua: includes/outbox-entry.lua). */
export const outboxEntry = (group: string, orderId: string): string =>
  `${group} ${orderId}`;

/** The group and the order of an outbox entry. */
export function parseOutboxEntry(entry: string): {
  group: string;
  orderId: string;
} {
  const space = entry.indexOf(' ');
  return { group: entry.slice(0, space), orderId: entry.slice(space + 1) };
}

// Claims orders for a group: marks them queued and enters them in the outbox (claim.lua).
const CLAIM = LuaScript.fromFile(new URL('./claim.lua', import.meta.url));

/**
 * Puts orders in their groups' queues, the one way every part of podium does it (the box
 * office as it records, an outbox relay, a listeners process that heard an announcement
 * the box office did not queue), with one retry policy: one BullMQ job per call and group,
 * carrying the orders, then the orders' outbox entries cleared (only once the job exists).
 */
export class MessageEnqueuer {
  private readonly places: RecordPlaces;

  constructor(
    /** For the markers and the outbox: the shared command connection. */
    private readonly redis: RedisClient,
    readonly queues: GroupQueues,
    private readonly retry: RetryPolicy,
    private readonly markerTtlSeconds: number,
    /** Where the keys live; the queues' names too. */
    readonly keys: Keyspace = Keyspace.singleRedis,
  ) {
    this.places = new RecordPlaces(redis, keys);
  }

  /**
   * Claims the orders for the group (see CLAIM); resolves with those it must now enqueue.
   * An order's markers and outbox entry live with its hash (on a cluster: one claim per slot).
   */
  async claim(
    group: string,
    orderIds: readonly string[],
    placeOf: (id: string) => Place,
  ): Promise<string[]> {
    const byPlace = this.byPlace(orderIds, placeOf);
    await this.places.register(byPlace.keys());
    const claimed = await Promise.all(
      [...byPlace].map(([place, ids]) =>
        CLAIM.run<string[]>(
          this.redis,
          [
            ...ids.map((id) => this.keys.key(place, appliedKey(id))),
            this.keys.key(place, OUTBOX),
          ],
          [group, queuedField(group), this.markerTtlSeconds, ...ids],
        ),
      ),
    );
    return claimed.flat();
  }

  /** One job carrying the orders, then their outbox entries cleared. */
  async enqueue(
    group: string,
    orderIds: readonly string[],
    placeOf: (id: string) => Place,
  ): Promise<void> {
    if (orderIds.length === 0) return;
    await this.queues
      .get(group)
      .add(
        jobName(orderIds.length),
        { orders: [...orderIds] },
        messageJobOptions(this.retry),
      );
    await Promise.all(
      [...this.byPlace(orderIds, placeOf)].map(([place, ids]) =>
        this.redis.zrem(
          this.keys.key(place, OUTBOX),
          ...ids.map((id) => outboxEntry(group, id)),
        ),
      ),
    );
  }

  /** The messages by the place of their record path. */
  private byPlace(
    orderIds: readonly string[],
    placeOf: (id: string) => Place,
  ): Map<Place, string[]> {
    const byPlace = new Map<Place, string[]>();
    for (const id of orderIds) {
      const place = placeOf(id);
      byPlace.set(place, [...(byPlace.get(place) ?? []), id]);
    }
    return byPlace;
  }

  /**
   * Gives each order of a batch job that failed a job of its own, with the tries the batch
   * had left and its backoff, so that an order that keeps failing ends in the failed set on
   * its own and is retried on its own. `failed`: per order, listener -> error.
   */
  async retryApart(
    group: string,
    batch: Job<MessageJobData>,
    failed: Map<string, Record<string, string>>,
  ): Promise<void> {
    const attemptsLeft = Math.max(
      1,
      this.retry.attempts - batch.attemptsMade - 1,
    );
    const delay = this.retry.backoffMs * 2 ** batch.attemptsMade;
    await this.queues.get(group).addBulk(
      [...failed].map(([orderId, reasons]) => ({
        name: jobName(1),
        data: { orders: [orderId], failed: reasons },
        opts: {
          ...messageJobOptions({ ...this.retry, attempts: attemptsLeft }),
          jobId: retryJobId(batch.id ?? 'batch', orderId),
          delay,
        },
      })),
    );
  }
}
