import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { rateLimitKey } from '@podium/core';
import { eventKey } from '@podium/orders';
import type { RedisClient } from '@podium/redis';
import {
  CapturedLogger,
  ClusterTopology,
  operatorAuth,
  PrivateRedis,
  SentinelTopology,
  waitFor,
} from '@podium/testing';
import { FAILOVER_MESSAGE } from '../apps/box-office/src/redis-unavailable.filter.js';
import { startBoxOffice } from './support/box-office.js';

const LIMIT = 4;
const EVENT = 'Womens Judo';
/** Two clients behind the proxy the box offices trust (TRUST_PROXY 1). */
const [ANN, BOB] = ['198.51.100.1', '198.51.100.2'];

/** Where the box offices run: their variables, and a client for the test's own reads. */
interface Topology {
  env: Record<string, string>;
  redis: RedisClient;
  destroy(): Promise<void>;
}

// REDIS_URL gives no address behind Sentinel or on a cluster (only credentials and TLS).
const UNUSED_URL = 'redis://unused:6379';

const TOPOLOGIES: [string, () => Promise<Topology>][] = [
  [
    'one Redis',
    async () => {
      const server = await PrivateRedis.start();
      return {
        env: { REDIS_URL: server.url },
        redis: server.client(),
        destroy: () => server.destroy(),
      };
    },
  ],
  [
    'Redis behind Sentinel',
    async () => {
      const sentinel = await SentinelTopology.start({
        replicas: 1,
        sentinels: 1,
      });
      return {
        env: {
          REDIS_URL: UNUSED_URL,
          REDIS_SENTINELS: sentinel.sentinelsEnv,
          REDIS_SENTINEL_NAME: sentinel.name,
        },
        redis: (await sentinel.primary()).client(),
        destroy: () => sentinel.destroy(),
      };
    },
  ],
  [
    'a Redis Cluster',
    async () => {
      const cluster = await ClusterTopology.start({
        primaries: 3,
        replicasPerPrimary: 0,
      });
      return {
        env: { REDIS_URL: UNUSED_URL, REDIS_CLUSTER_NODES: cluster.nodesEnv },
        redis: cluster.client(),
        destroy: () => cluster.destroy(),
      };
    },
  ],
];

/*
 * The rate limit is counted in Redis: box offices on one Redis count a client's purchases
 * once, whichever box office each request reaches, as a load balancer spreads them.
 */
describe.each(TOPOLOGIES)(
  'two box offices on %s: one rate limit per client',
  (_name, start) => {
    let topology: Topology;
    let offices: INestApplication[] = [];

    const buy = (office: INestApplication, client: string) =>
      request(office.getHttpServer())
        .post('/purchases')
        .set('X-Forwarded-For', client)
        .send({ event: EVENT, qty: 1, who: 'fan' });

    beforeAll(async () => {
      topology = await start();
      const { REDIS_URL, ...env } = topology.env;
      for (let i = 0; i < 2; i++)
        offices.push(
          await startBoxOffice(REDIS_URL, {
            ...env,
            PURCHASE_RATE_LIMIT: String(LIMIT),
            TRUST_PROXY: '1',
          }),
        );
      await request(offices[0].getHttpServer())
        .post('/events')
        .set('Authorization', operatorAuth)
        .send({ name: EVENT, price: 20 })
        .expect(201);
    }, 60_000);

    afterAll(async () => {
      await Promise.all(offices.map((office) => office.close()));
      offices = [];
      await topology?.destroy();
    });

    it(`a client's purchases spread over both are counted once: the ${LIMIT + 1}th answers 429 with Retry-After, whichever box office it reaches`, async () => {
      for (let i = 0; i < LIMIT; i++) {
        const res = await buy(offices[i % 2], ANN).expect(201);
        expect(res.headers['x-ratelimit-limit']).toBe(String(LIMIT));
        expect(res.headers['x-ratelimit-remaining']).toBe(
          String(LIMIT - 1 - i),
        );
      }
      for (const office of offices) {
        const refused = await buy(office, ANN).expect(429);
        expect(refused.body).toEqual({
          statusCode: 429,
          message: `too many purchases from this client: at most ${LIMIT} a minute`,
        });
        const retryAfter = Number(refused.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
      // Refused purchases recorded nothing; the count is one key, in Redis.
      expect(await topology.redis.hget(eventKey(EVENT), 'sold')).toBe(
        String(LIMIT),
      );
      expect(
        await topology.redis.hgetall(rateLimitKey('purchases', ANN)),
      ).toEqual({ hits: String(LIMIT + 1), blocked: '1' });
    });

    it('another client has a count of its own', async () => {
      for (const office of offices) await buy(office, BOB).expect(201);
      const res = await buy(offices[0], BOB).expect(201);
      expect(res.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 3));
      await buy(offices[1], ANN).expect(429);
    });
  },
);

describe('Redis stopped: a rate-limited purchase answers 503, not 500, and is not let through uncounted', () => {
  let server: PrivateRedis;
  let office: INestApplication;
  const logs = new CapturedLogger();
  const buy = () =>
    request(office.getHttpServer())
      .post('/purchases')
      .send({ event: EVENT, qty: 1, who: 'outage' });

  beforeAll(async () => {
    server = await PrivateRedis.start({ appendonly: true });
    office = await startBoxOffice(
      server.url,
      { PURCHASE_RATE_LIMIT: '2' },
      { logger: logs },
    );
    await request(office.getHttpServer())
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: EVENT, price: 20 })
      .expect(201);
  });

  afterAll(async () => {
    await office?.close();
    await server?.destroy();
  });

  it('answers 503 with Retry-After while Redis is down, and counts again once it is back', async () => {
    await buy().expect(201);
    await server.stop();
    const refused = await buy().timeout(10_000);
    // Refused by the rate limit, which could not count, before the purchase ran.
    const notCounted = logs.matching(
      'Rate limit not counted, Redis unavailable (down)',
    );
    await server.start(); // before any check: a failed one leaves no Redis stopped
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toEqual({
      statusCode: 503,
      message: 'Redis is unavailable: nothing was recorded; try again later',
      error: 'Service Unavailable',
    });
    expect(notCounted).toHaveLength(1);

    const redis = server.client();
    await waitFor(
      async () =>
        (await request(office.getHttpServer()).get('/health/ready')).status ===
        200,
      { what: 'the box office ready again', timeoutMs: 15_000 },
    );
    // The first purchase was counted before the outage: one more, then 429.
    await buy().expect(201);
    await buy().expect(429);
    expect(await redis.hget(eventKey(EVENT), 'sold')).toBe('2');
  });
});

describe('a planned failover behind Sentinel: a limited purchase answers as it would without the limit, and the count goes on on the new primary', () => {
  let sentinel: SentinelTopology;
  let office: INestApplication;
  const buy = () =>
    request(office.getHttpServer())
      .post('/purchases')
      .send({ event: EVENT, qty: 1, who: 'failover' });

  beforeAll(async () => {
    sentinel = await SentinelTopology.start({ replicas: 1, sentinels: 1 });
    office = await startBoxOffice(UNUSED_URL, {
      REDIS_SENTINELS: sentinel.sentinelsEnv,
      REDIS_SENTINEL_NAME: sentinel.name,
      PURCHASE_RATE_LIMIT: '100000',
    });
    await request(office.getHttpServer())
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: EVENT, price: 20 })
      .expect(201);
  }, 60_000);

  afterAll(async () => {
    await office?.close();
    await sentinel?.destroy();
  });

  it("buys on through it: 201, or 503 with Retry-After (the failover's, as the purchase gives it), never 500, 429 or Redis refusing writes", async () => {
    /** Each answer: '201', or status, Retry-After and message. */
    const answers: string[] = [];
    let buying = true;
    const loop = (async () => {
      while (buying) {
        const res = await buy();
        answers.push(
          res.status === 201
            ? '201'
            : `${res.status} ${res.headers['retry-after']} ${res.body.message}`,
        );
      }
    })();
    let after = 0;
    try {
      await waitFor(() => answers.length >= 20, {
        what: 'purchases before the failover',
      });
      // The replica has the event and the count: a failover loses nothing of them.
      await sentinel.waitForReplicas(1);
      const old = await sentinel.failover();
      await sentinel.waitForNewPrimary(old);
      after = answers.length;
      await waitFor(
        () => answers.slice(after).filter((a) => a === '201').length >= 20,
        { what: '20 purchases on the new primary', timeoutMs: 20_000 },
      );
    } finally {
      buying = false;
      await loop;
    }
    const refused = answers.filter((a) => a !== '201');
    expect(refused).toContain(`503 1 ${FAILOVER_MESSAGE}`);
    for (const answer of refused) {
      expect(answer).toMatch(/^503 \d+ /);
      expect(answer).not.toMatch(/refuses writes/);
    }
    // Counted on the new primary: every purchase since it took over, at least.
    const primary = (await sentinel.primary()).client();
    const hits = Number(
      await primary.hget(rateLimitKey('purchases', '127.0.0.1'), 'hits'),
    );
    expect(hits).toBeGreaterThanOrEqual(
      answers.slice(after).filter((a) => a === '201').length,
    );
    expect(hits).toBeLessThanOrEqual(answers.length);
  });
});
