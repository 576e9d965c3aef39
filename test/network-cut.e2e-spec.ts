import { OPENING_CEREMONY } from '@podium/orders';
import {
  PrivateRedis,
  PurchaseStream,
  RedisEndpoint,
  type Bought,
} from '@podium/testing';
import { expectAppliedOnce } from './support/exactly-once.js';
import {
  boxOfficeErrors,
  EPHEMERAL_LISTENER,
  haEnv,
  linesOf,
  listenerLoss,
  metricTotal,
  startHaApps,
  type HaApps,
  watchReadiness,
} from './support/ha-apps.js';
import { type ReadinessWatch } from './support/readiness-watch.js';

/*
 * The network between an app and Redis forgets its connections without closing them (no
 * FIN, no RST), as a NAT, a load balancer or a cloud network's idle cut does, while new
 * connections go through: each app reaches Redis through a proxy of its own
 * (RedisEndpoint) that the test silences mid-stream, 16 clients buying. With the default
 * REDIS_LIVENESS_TIMEOUT_MS (8 s) every silent connection is replaced: the durable
 * listeners apply every purchase answered 201 once within 20 s of the cut, the ephemeral
 * histogram's loss is counted and its delivery resumes, and the box office answers 201
 * again within 15 s, no request waiting past its deadline.
 */

const EVENTS = ['Womens Judo', OPENING_CEREMONY];
const DEADLINE_MS = 5000;
const REPLACED = /Redis connection \S+ answered nothing for [\d.]+ s/;

describe('a silent network cut (no FIN, no RST) between an app and Redis, under a stream of purchases', () => {
  let redis: PrivateRedis;
  let toListeners: RedisEndpoint;
  let toBoxOffice: RedisEndpoint;
  let apps: HaApps;
  let readiness: ReadinessWatch;
  /** Every order answered 201, across the streams. */
  const bought = new Map<string, Bought>();

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    toListeners = await RedisEndpoint.start(redis);
    toBoxOffice = await RedisEndpoint.start(redis);
    apps = await startHaApps(haEnv({ REDIS_URL: redis.url }), EVENTS, {
      // One Redis, no replica: what a cut costs, not what a failover does.
      both: { REDIS_WAIT_REPLICAS: '0' },
      listeners: { REDIS_URL: toListeners.url },
      boxOffice: { REDIS_URL: toBoxOffice.url },
    });
    readiness = watchReadiness(apps);
  });

  afterAll(async () => {
    await readiness?.stop();
    await apps?.kill();
    await toListeners?.close();
    await toBoxOffice?.close();
    await redis?.destroy();
  });

  const stream = (name: string) =>
    new PurchaseStream(apps.boxOffice.url, {
      events: EVENTS,
      keyPrefix: name,
      deadlineMs: DEADLINE_MS,
    });

  /** Runs a stream of purchases, 100 before `cut` and `after` after; returns when the cut was made. */
  async function buyThrough(
    name: string,
    cut: () => number,
    after = 100,
  ): Promise<{ at: number; purchases: PurchaseStream }> {
    const purchases = stream(name);
    let at: number;
    try {
      await purchases.more(100);
      at = Date.now();
      expect(cut()).toBeGreaterThan(0);
      await purchases.more(after, 30_000);
    } finally {
      await purchases.stop(boxOfficeErrors(apps));
      for (const [id, order] of purchases.bought) bought.set(id, order);
    }
    expect(purchases.outcomes().deadline).toBeUndefined();
    expect(purchases.slowestMs).toBeLessThan(DEADLINE_MS);
    return { at, purchases };
  }

  it('the listeners process cut off: durable listeners apply every 201 once within 20 s, the ephemeral loss is counted and delivery resumes', async () => {
    const lossBefore = await listenerLoss(apps.boxOffice, EPHEMERAL_LISTENER);
    const { at } = await buyThrough('listeners-cut', () =>
      toListeners.silence(),
    );
    await expectAppliedOnce(redis.client(), [...bought.values()], EVENTS);
    const appliedAfterMs = Date.now() - at;
    expect(appliedAfterMs).toBeLessThan(20_000);

    // Said once per replaced connection, counted, and readiness 503 meanwhile.
    const said = linesOf(apps.listeners, REPLACED);
    expect(said.length).toBeGreaterThan(0);
    const replaced = await metricTotal(
      apps.listeners.healthUrl,
      'podium_redis_connections_replaced_total',
    );
    expect(replaced).toBeGreaterThanOrEqual(said.length);
    const ready = readiness.outage('listeners', at);
    expect(ready.unreadyAfterMs).toBeDefined();
    expect(ready.readyAfterMs).toBeDefined();

    // The ephemeral histogram: what it missed is a number, and it hears again.
    const loss = await listenerLoss(apps.boxOffice, EPHEMERAL_LISTENER);
    expect(Number.isInteger(loss.lost)).toBe(true);
    await buyThrough('listeners-after', () => 1, 50);
    const lossAfter = await listenerLoss(apps.boxOffice, EPHEMERAL_LISTENER);
    expect(lossAfter.applied - loss.applied).toBeGreaterThanOrEqual(150);
    expect(lossAfter.lost).toBe(loss.lost);
    await expectAppliedOnce(redis.client(), [...bought.values()], EVENTS);
    console.log(
      `listeners cut: every 201 applied ${appliedAfterMs} ms after the cut; ${said.length} connections replaced ` +
        `(${replaced} counted); unready ${ready.unreadyAfterMs} to ${ready.readyAfterMs} ms after it; ` +
        `${EPHEMERAL_LISTENER} (ephemeral) lost ${loss.lost - lossBefore.lost} of ${loss.announced - lossBefore.announced} announced`,
    );
  });

  it('the box office cut off: purchases answer 503 and then 201 again within 15 s, nothing lost', async () => {
    const { at, purchases } = await buyThrough('box-office-cut', () =>
      toBoxOffice.silence(),
    );
    const outage = purchases.outage(at - 1000);
    expect(outage.end - at).toBeLessThan(15_000);
    const sentAfter = purchases.firstSuccessSentAfter(at)! - at;
    expect(sentAfter).toBeLessThan(15_000);
    await expectAppliedOnce(redis.client(), [...bought.values()], EVENTS);
    const said = linesOf(apps.boxOffice, REPLACED);
    expect(said.length).toBeGreaterThan(0);
    expect(
      await metricTotal(
        apps.boxOffice.url,
        'podium_redis_connections_replaced_total',
      ),
    ).toBeGreaterThanOrEqual(said.length);
    const ready = readiness.outage('box office', at);
    expect(ready.unreadyAfterMs).toBeDefined();
    expect(ready.readyAfterMs).toBeDefined();
    console.log(
      `box office cut: no purchase answered 201 for ${outage.end - outage.start} ms (until ${outage.end - at} ms after the cut); ` +
        `answers since: ${JSON.stringify(purchases.outcomes(at))}; slowest request ${purchases.slowestMs} ms; ` +
        `${said.length} connections replaced; unready ${ready.unreadyAfterMs} to ${ready.readyAfterMs} ms after it`,
    );
  });
});
