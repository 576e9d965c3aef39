import { SentinelTopology, waitFor } from '@podium/testing';
import { createRedis, type RedisClient } from './redis-connection.js';
import { redisTargetFrom } from './redis-target.js';

describe('createRedis behind Sentinel', () => {
  let topology: SentinelTopology;
  let connections: RedisClient[] = [];
  beforeAll(async () => {
    topology = await SentinelTopology.start();
  });
  afterAll(async () => {
    for (const connection of connections) connection.disconnect();
    await topology?.destroy();
  });

  it('every connection follows the new primary after kill -9 of the old one (none ends for good while reconnecting)', async () => {
    const target = redisTargetFrom({
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_SENTINELS: topology.sentinelsEnv,
      REDIS_SENTINEL_NAME: topology.name,
    });
    // Many at once, fail-fast as the box office's: the more there are, the likelier one is
    // reconnecting when +switch-master comes (see dropStaleFailoverDetectors).
    connections = Array.from({ length: 40 }, (_, i) =>
      createRedis(target, `follow-${i}`, { failFast: true }),
    );
    await waitFor(() => connections.every((c) => c.status === 'ready'), {
      what: 'every connection to be ready',
    });
    const killed = await topology.killPrimary();
    const primary = await topology.waitForNewPrimary(killed);
    await waitFor(
      async () => {
        const ports = await Promise.all(
          connections.map(async (c) => {
            if (c.status !== 'ready') return undefined;
            const [, port] = (await c.config('GET', 'port')) as string[];
            return Number(port);
          }),
        );
        return ports.every((port) => port === primary.port);
      },
      { what: 'every connection on the new primary', timeoutMs: 15_000 },
    ).catch(() => {
      const statuses = connections.map((c) => c.status);
      throw new Error(`connections: ${statuses.join(', ')}`);
    });
  });
});
