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

/** The outbox entry of a message that must be in a group's queue (in Lua: includes/outbox-entry.lua). */
export const outboxEntry = (group: string, id: string): string =>
  `${group} ${id}`;

/** The group and the message id of an outbox entry. */
export function parseOutboxEntry(entry: string): {
  group: string;
  id: string;
} {
  const space = entry.indexOf(' ');
  return { group: entry.slice(0, space), id: entry.slice(space + 1) };
}

// Claims messages for a group: marks them queued and enters them in the outbox (claim.lua).
const CLAIM = LuaScript.fromFile(new URL('./claim.lua', import.meta.url));

/**
 * Puts messages in their groups' queues, the one way every part of podium does it (the
 * publisher as it records, an outbox relay, a listeners process that heard an announcement
 * the publisher did not queue), with one retry policy: one BullMQ job per call and group,
 * carrying the messages, then their outbox entries cleared (only once the job exists).
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
   * Claims the messages for the group (see CLAIM); resolves with those it must now enqueue.
   * A message's markers and outbox entry live with its hash (on a cluster: one claim per slot).
   */
  async claim(
    group: string,
    ids: readonly string[],
    placeOf: (id: string) => Place,
  ): Promise<string[]> {
    const byPlace = this.byPlace(ids, placeOf);
    await this.places.register(byPlace.keys());
    const claimed = await Promise.all(
      [...byPlace].map(([place, placed]) =>
        CLAIM.run<string[]>(
          this.redis,
          [
            ...placed.map((id) => this.keys.key(place, appliedKey(id))),
            this.keys.key(place, OUTBOX),
          ],
          [group, queuedField(group), this.markerTtlSeconds, ...placed],
        ),
      ),
    );
    return claimed.flat();
  }

  /**
   * One job carrying the messages, then their outbox entries cleared. `confirmed`, when
   * given, runs in between (REDIS_WAIT_REPLICAS): should it throw, the entries stay for the
   * relay.
   */
  async enqueue(
    group: string,
    ids: readonly string[],
    placeOf: (id: string) => Place,
    confirmed?: () => Promise<void>,
  ): Promise<void> {
    if (ids.length === 0) return;
    await this.queues
      .get(group)
      .add(
        jobName(ids.length),
        { orders: [...ids] },
        messageJobOptions(this.retry),
      );
    await confirmed?.();
    await Promise.all(
      [...this.byPlace(ids, placeOf)].map(([place, placed]) =>
        this.redis.zrem(
          this.keys.key(place, OUTBOX),
          ...placed.map((id) => outboxEntry(group, id)),
        ),
      ),
    );
  }

  /** The messages by the place of their record path. */
  private byPlace(
    ids: readonly string[],
    placeOf: (id: string) => Place,
  ): Map<Place, string[]> {
    const byPlace = new Map<Place, string[]>();
    for (const id of ids) {
      const place = placeOf(id);
      byPlace.set(place, [...(byPlace.get(place) ?? []), id]);
    }
    return byPlace;
  }

  /**
   * Gives each message of a batch job that failed a job of its own, with the tries the batch
   * had left and its backoff, so that a message that keeps failing ends in the failed set on
   * its own and is retried on its own. `failed`: per message id, listener -> error.
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
      [...failed].map(([id, reasons]) => ({
        name: jobName(1),
        data: { orders: [id], failed: reasons },
        opts: {
          ...messageJobOptions({ ...this.retry, attempts: attemptsLeft }),
          jobId: retryJobId(batch.id ?? 'batch', id),
          delay,
        },
      })),
    );
  }
}
