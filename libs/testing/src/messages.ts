import {
  appliedKey,
  queuedField,
  type IdField,
  type MessageType,
} from '@podium/core';
import type { RedisClient } from '@podium/redis';
import { waitFor } from './wait-for.js';

/**
 * Records a message and announces it on its type's channels (HSET, then PUBLISH of the
 * bare id on each, in one MULTI), as another program would: podium's publisher is not
 * involved, so no durable job is queued for it, and the listeners that hear it take it.
 */
export async function announceMessage<T, K extends IdField<T>>(
  redis: RedisClient,
  type: MessageType<T, K>,
  message: T,
): Promise<T> {
  const id = type.idOf(message);
  let multi = redis.multi().hset(type.recordKey(id), type.toHash(message));
  for (const channel of type.channels(message))
    multi = multi.publish(channel, id);
  await multi.exec();
  return message;
}

/** Waits until every named listener has applied the message (its applied marker is set). */
export async function waitForApplied(
  redis: RedisClient,
  id: string,
  listeners: string[],
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    async () => {
      const marks = await redis.hmget(appliedKey(id), ...listeners);
      return marks.every((m) => m === '1');
    },
    { what: `${id} applied by ${listeners.join(', ')}`, timeoutMs },
  );
}

/** The groups a message is marked queued (or claimed) for: the fields queued:<group> of its markers. */
export async function queuedGroups(
  redis: RedisClient,
  id: string,
): Promise<string[]> {
  const prefix = queuedField('');
  return Object.keys(await redis.hgetall(appliedKey(id)))
    .filter((field) => field.startsWith(prefix))
    .map((field) => field.slice(prefix.length))
    .sort();
}
