import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-connection.js';

/**
 * Every key matching a glob, in batches: SCAN on one server, and on a cluster on each of its
 * primaries (each holds its own slots' keys; ioredis' Cluster has no SCAN across nodes).
 * Right after a failover the client may still list the demoted primary among the
 * primaries, until it refreshes its map: a node that says it is a replica now is skipped,
 * or its keys would come twice.
 */
export async function* scanKeys(
  client: RedisClient,
  match: string,
  count = 500,
): AsyncGenerator<string[]> {
  const servers: Redis[] =
    client instanceof Cluster ? client.nodes('master') : [client];
  for (const server of servers) {
    if (client instanceof Cluster && !(await isPrimary(server))) continue;
    for await (const keys of server.scanStream({
      match,
      count,
    }) as AsyncIterable<string[]>)
      yield keys;
  }
}

async function isPrimary(server: Redis): Promise<boolean> {
  const [role] = (await server.call('ROLE')) as [string];
  return role === 'master';
}
