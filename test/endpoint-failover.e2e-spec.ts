import { OPENING_CEREMONY, orderKey } from '@podium/orders';
import {
  coordinatedFailover,
  managedFailover,
  PrivateRedis,
  RedisEndpoint,
  waitFor,
  PurchaseStream,
  type Bought,
} from '@podium/testing';
import { expectAppliedOnce } from './support/exactly-once.js';
import {
  boxOfficeErrors,
  EPHEMERAL_LISTENER,
  expectFailoverSaidOnce,
  haEnv,
  listenerLoss,
  startHaApps,
  type HaApps,
  watchReadiness,
} from './support/ha-apps.js';
import { type ReadinessWatch } from './support/readiness-watch.js';

/*
 * Both apps behind a managed service's endpoint (a TCP proxy on loopback whose target
 * moves to the promoted replica, as a DNS name does), while 16 clients buy. The
 * connections opened before a switch stay on the old primary, now a replica that answers
 * READONLY: they reconnect, through the endpoint, to the new one. With
 * REDIS_WAIT_REPLICAS=1: a failover played step by step (promote, demote, move), and the
 * primary killed. With 1 and with 0: a coordinated one (Redis's FAILOVER command, as a
 * provider's planned failover), which loses no purchase answered 201 even with WAIT 0.
 */

const EVENTS = ['Womens Judo', OPENING_CEREMONY];
const DEADLINE_MS = 5000;
const APPS = ['box office', 'listeners'];

describe.each(['1', '0'])(
  'a managed endpoint: failovers under a stream of purchases (REDIS_WAIT_REPLICAS=%s)',
  (wait) => {
    let nodes: PrivateRedis[] = [];
    let endpoint: RedisEndpoint;
    let apps: HaApps;
    let readiness: ReadinessWatch;
    /** Every order answered 201, across the streams. */
    const bought = new Map<string, Bought>();

    beforeAll(async () => {
      const primary = await PrivateRedis.start();
      nodes = [primary, await PrivateRedis.start({ replicaOf: primary })];
      await nodes[1].waitForSync();
      endpoint = await RedisEndpoint.start(primary);
      apps = await startHaApps(haEnv({ REDIS_URL: endpoint.url }), EVENTS, {
        both: { REDIS_WAIT_REPLICAS: wait },
      });
      readiness = watchReadiness(apps);
    });

    afterAll(async () => {
      await readiness?.stop();
      await apps?.kill();
      await endpoint?.close();
      await Promise.all(nodes.map((node) => node.destroy()));
    });

    /** The node the endpoint sends new connections to, and the other one. */
    const roles = () => {
      const primary = nodes.find((n) => n.port === endpoint.targetPort)!;
      return { primary, replica: nodes.find((n) => n !== primary)! };
    };

    const runIds = (...servers: PrivateRedis[]) =>
      Promise.all(
        servers.map(async (server) => (await server.info('server')).run_id),
      );

    /** Buys through `during`, 100 purchases before and after; checks what the Sentinel test checks. */
    async function buyThrough(
      name: string,
      during: () => Promise<number>,
    ): Promise<string> {
      const lossBefore = await listenerLoss(apps.boxOffice, EPHEMERAL_LISTENER);
      const stream = new PurchaseStream(apps.boxOffice.url, {
        events: EVENTS,
        keyPrefix: name,
        deadlineMs: DEADLINE_MS,
      });
      let at: number;
      try {
        await stream.more(100);
        at = await during();
        await stream.more(100);
      } finally {
        await stream.stop(boxOfficeErrors(apps));
        for (const [id, order] of stream.bought) bought.set(id, order);
      }
      expect(stream.outcomes().deadline).toBeUndefined();
      expect(stream.slowestMs).toBeLessThan(DEADLINE_MS);
      // Purchases answered 201 again within 15 s of the trigger.
      const outage = stream.outage(at - 1000);
      expect(outage.end - at).toBeLessThan(15_000);
      const sentAfter = stream.firstSuccessSentAfter(at)! - at;
      expect(sentAfter).toBeLessThan(15_000);
      const held = roles().primary.client();
      const recorded = await Promise.all(
        [...stream.bought.keys()].map((id) => held.exists(orderKey(id))),
      );
      const missing = recorded.filter((n) => n === 0).length;
      expect(missing).toBe(0);
      await expectAppliedOnce(held, [...bought.values()], EVENTS).catch(
        (err: Error) => {
          throw new Error(
            `${err.message}\nthe listeners warned: ${apps.listeners.output
              .filter((l) => /WARN|ERROR/.test(l))
              .slice(-20)
              .join('\n')}`,
          );
        },
      );
      const loss = await listenerLoss(apps.boxOffice, EPHEMERAL_LISTENER);
      expect(Number.isInteger(loss.lost)).toBe(true);
      const outages = APPS.map((app) => {
        const { unreadyAfterMs, readyAfterMs } = readiness.outage(app, at);
        return `${app} ${unreadyAfterMs ?? '-'} to ${readyAfterMs ?? '-'} ms`;
      });
      return (
        `WAIT ${wait}: ${stream.bought.size} answered 201, ${missing} of them not on the new primary; ` +
        `no purchase answered 201 for ${outage.end - outage.start} ms (from ${outage.start - at} to ${outage.end - at} ms after the switch began), ` +
        `the first purchase sent after it began answered 201 ${sentAfter} ms after; ` +
        `unready after it: ${outages.join(', ')}; answers since: ${JSON.stringify(stream.outcomes(at))}; slowest request ${stream.slowestMs} ms; ` +
        `${EPHEMERAL_LISTENER} (ephemeral): ${loss.announced - lossBefore.announced} announced, ${loss.applied - lossBefore.applied} applied, ` +
        `${loss.lost - lossBefore.lost} lost`
      );
    }

    /** Each app logs the new primary once (by run_id: behind an endpoint the address stays), and counts it. */
    async function expectSaidOnce(
      [oldId, newId]: string[],
      count: number,
      since: number,
    ): Promise<string> {
      const line = new RegExp(
        `Redis failover: the primary at redis://127\\.0\\.0\\.1:${endpoint.port} is now run_id ${newId}, a promoted replica of run_id ${oldId}`,
      );
      const loggedAt = await expectFailoverSaidOnce(apps, line, count);
      return `${loggedAt.map((t) => t - since).join(' and ')} ms after the endpoint moved`;
    }

    // Step by step and killed, a write the old primary took after the promotion, or never
    // passed on, is lost: only WAIT turns those into 503s.
    if (wait === '1')
      it('planned failover (replica promoted, old primary made its replica, endpoint moved): the connections left on the old primary get READONLY, reconnect, and purchases succeed again within 15 s', async () => {
        let said = '';
        const cost = await buyThrough('planned', async () => {
          const { primary, replica } = roles();
          const ids = await runIds(primary, replica);
          const at = Date.now();
          await managedFailover(endpoint, { primary, replica });
          said = await expectSaidOnce(ids, 1, Date.now());
          return at;
        });
        console.log(`endpoint, planned: logged by both apps ${said}; ${cost}`);
      });

    if (wait === '1')
      it('primary killed: readiness is 503 within 2 s on both apps; once the replica is promoted and the endpoint moved, purchases succeed again within 15 s', async () => {
        let said = '';
        const cost = await buyThrough('killed', async () => {
          const { primary, replica } = roles();
          const ids = await runIds(primary, replica);
          await primary.kill();
          const at = Date.now();
          for (const app of APPS)
            await waitFor(() => readiness.first(app, 503, at), {
              what: `${app} to be unready`,
              timeoutMs: 2000,
            });
          // What the provider does once it sees the primary gone; it comes back as a replica.
          await managedFailover(endpoint, {
            primary,
            replica,
            waitForSync: false,
          });
          said = await expectSaidOnce(ids, 2, Date.now());
          await primary.start();
          return at;
        });
        console.log(
          `endpoint, primary killed: logged by both apps ${said}; ${cost}`,
        );
      });

    it('coordinated failover (Redis FAILOVER: writes paused until the replica has them, roles swapped, endpoint moved): no purchase answered 201 is lost, and purchases succeed again within 15 s', async () => {
      let said = '';
      const cost = await buyThrough('coordinated', async () => {
        const { primary, replica } = roles();
        const ids = await runIds(primary, replica);
        const at = Date.now();
        await coordinatedFailover(endpoint, { primary, replica });
        // The third failover with WAIT 1 (after the two above), the first with 0.
        said = await expectSaidOnce(ids, wait === '1' ? 3 : 1, Date.now());
        return at;
      });
      console.log(
        `endpoint, FAILOVER command: logged by both apps ${said}; ${cost}`,
      );
    });
  },
);
