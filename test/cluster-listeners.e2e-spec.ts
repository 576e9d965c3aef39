import { OPENING_CEREMONY } from '@podium/orders';
import { ClusterTopology, waitFor, PurchaseStream } from '@podium/testing';
import { expectAppliedOnce } from './support/exactly-once.js';
import {
  boxOfficeErrors,
  EPHEMERAL_LISTENER,
  haEnv,
  listenerLoss,
  startHaApps,
  type HaApps,
} from './support/ha-apps.js';

/*
 * kill -9 of the listeners process on a Redis Cluster (three primaries with two replicas
 * each, REDIS_CLUSTER_NODES only, durable delivery, REDIS_WAIT_REPLICAS=1) while 16 clients
 * buy, and its restart 2 s later: as on one Redis (crash-recovery), every order answered
 * 201 is applied exactly once by the durable listeners (the jobs the killed process held
 * run again once their locks expire, the markers skip what it had applied), the seed's
 * figures are exact through the read API, and the box office never stops answering 201.
 */

const EVENTS = ['Womens Judo', OPENING_CEREMONY, 'Archery'];
const DEADLINE_MS = 5000;

describe('Redis Cluster: kill -9 of the listeners process under a stream of purchases', () => {
  let cluster: ClusterTopology;
  let apps: HaApps;

  beforeAll(async () => {
    cluster = await ClusterTopology.start({
      primaries: 3,
      replicasPerPrimary: 2,
    });
    apps = await startHaApps(
      haEnv({
        REDIS_URL: 'redis://127.0.0.1:1', // only its credentials and TLS count
        REDIS_CLUSTER_NODES: cluster.nodesEnv,
      }),
      EVENTS,
    );
  }, 60_000);

  afterAll(async () => {
    await apps?.kill();
    await cluster?.destroy();
  });

  it('kill -9 mid-stream, restart 2 s later: every order answered 201 applied exactly once, nothing lost, nothing doubled', async () => {
    const lossBefore = await listenerLoss(apps.boxOffice, EPHEMERAL_LISTENER);
    const stream = new PurchaseStream(apps.boxOffice.url, {
      events: EVENTS,
      keyPrefix: 'listeners-killed',
      deadlineMs: DEADLINE_MS,
    });
    let killedAt = 0;
    let restartedAt = 0;
    let restartTook: number | undefined;
    try {
      await stream.more(100);
      await apps.listeners.kill();
      killedAt = Date.now();
      // Orders keep coming while the listeners are down; the restart comes 2 s later.
      await stream.more(50);
      await waitFor(() => Date.now() - killedAt >= 2000, {
        what: '2 s since the kill',
        timeoutMs: 5000,
      });
      const restarting = Date.now();
      await apps.restartListeners();
      restartedAt = Date.now();
      restartTook = restartedAt - restarting;
      await stream.more(100);
    } finally {
      await stream.stop(boxOfficeErrors(apps));
    }
    // The box office does not depend on the listeners process: every answer was a 201.
    expect({
      outcomes: stream.outcomes(),
      reasons: stream.reasons(),
    }).toEqual({ outcomes: { '201': stream.attempts.length }, reasons: {} });
    expect(stream.slowestMs).toBeLessThan(DEADLINE_MS);
    const bought = [...stream.bought.values()];
    const soldWhileDown = stream.attempts.filter(
      (a) => a.answeredAt >= killedAt && a.answeredAt < restartedAt,
    ).length;
    const client = cluster.client();
    await expectAppliedOnce(client, bought, EVENTS);
    const caughtUp = Date.now() - restartedAt;
    expect(caughtUp).toBeLessThan(30_000);

    // The seed's other figures through the read API: the lottery's every 5th Opening
    // Ceremony order (one slot), one alert for every other order.
    const ceremony = bought.filter((o) => o.event === OPENING_CEREMONY).length;
    const get = async (path: string) =>
      (await (await fetch(`${apps.boxOffice.url}${path}`)).json()) as unknown[];
    await waitFor(
      async () =>
        (await get('/lottery/winners')).length === Math.floor(ceremony / 5),
      { what: 'the lottery winners', timeoutMs: 10_000 },
    );
    // The most recent page of alerts: each of another order, none twice.
    const alerts = (await get('/alerts?limit=1000')) as { orderId: string }[];
    expect(alerts).toHaveLength(Math.min(1000, bought.length - ceremony));
    const others = new Set(
      bought.filter((o) => o.event !== OPENING_CEREMONY).map((o) => o.orderId),
    );
    expect(new Set(alerts.map((a) => a.orderId)).size).toBe(alerts.length);
    expect(alerts.filter((a) => !others.has(a.orderId))).toEqual([]);
    const loss = await listenerLoss(apps.boxOffice, EPHEMERAL_LISTENER);
    const announced = loss.announced - lossBefore.announced;
    const applied = loss.applied - lossBefore.applied;
    const lost = loss.lost - lossBefore.lost;
    // The ephemeral listener misses what was announced while no process listened, and
    // says so: what it did not apply is counted lost.
    expect(announced).toBe(bought.length);
    expect(applied + lost).toBe(announced);
    console.log(
      `cluster kill -9 of the listeners process: ${bought.length} orders answered 201, ${soldWhileDown} of them ` +
        `between the kill and the restarted process being ready (started 2 s after the kill, ready ${restartTook} ms later), every one 201 ` +
        `(slowest request ${stream.slowestMs} ms); every order applied exactly once by the durable listeners ` +
        `${caughtUp} ms after the restart was ready; ${EPHEMERAL_LISTENER} (ephemeral): ${announced} announced, ` +
        `${applied} applied, ${lost} lost`,
    );
  });
});
