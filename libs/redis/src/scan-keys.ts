import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-connection.js';

/**
 * Every key matching a glob, in batches: SCAN on one server, and on a cluster on each of its
 * primaries (each holds its own slots' keys; ioredis' Cluster has no SCAN across nodes).
 */
export async function* scanKeys(
  client: RedisClient,
  match: string,
  count = 500,
): AsyncGenerator<string[]> {
  const servers: Redis[] =
    client instanceof Cluster ? client.nodes('master') : [client];
  for (const server of servers)
    for await (const keys of server.scanStream({
      match,
      count,
    }) as AsyncIterable<string[]>)
      yield keys;
}
