/**
 * `npm run demo`: the seed's run, on the real apps. It creates the four events, starts the
 * listeners and the box office as separate processes, makes 50 random purchases, prints
 * alerts and lottery winners as the listeners log them, then the seed's statistics, every
 * listener the listeners process runs (GET /listeners), and a check of the seed's listeners.
 *
 * Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES if set (never flushed), else a
 * throwaway redis-server on a free port (with --cluster, a throwaway cluster of 3 primaries
 * and 3 replicas). DELIVERY=ephemeral|queued|durable picks the listeners' delivery mode.
 * `npm run demo -- --kill-listeners` kills the listeners process (kill -9) a third of the
 * way through and restarts it 2 s later, to show what each mode loses.
 * `npm run demo -- --keep` keeps Redis and the apps running after the run, until Ctrl-C, so
 * that the live dashboard (its address is printed at the start) can be looked at.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { validatePodiumEnv, appliedKey, Keyspace } from '@podium/core';
import {
  OPENING_CEREMONY,
  SALES_SUMMARY,
  salesSummaryField,
} from '@podium/orders';
import { ClusterTopology, PrivateRedis, waitFor } from '@podium/testing';
import { seedListenersFor } from '@podium/listeners';
import {
  createRedis,
  describeRedisTarget,
  PlacedReads,
  type RedisClient,
} from '@podium/redis';

const EVENTS = [
  'Womens Judo',
  'Mens 4x400',
  OPENING_CEREMONY,
  'Closing Ceremony',
];
const PRICE = 20;
const PURCHASES = 50;
const CUSTOMERS = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay'];
const KILL_AT = Math.floor(PURCHASES / 3);
const killListeners = process.argv.includes('--kill-listeners');
const keep = process.argv.includes('--keep');
const throwawayCluster = process.argv.includes('--cluster');
/** The variables that say where Redis is (see the README's configuration). */
const REDIS_VARIABLES = [
  'REDIS_URL',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_CLUSTER_NODES',
];
const dist = (path: string) =>
  fileURLToPath(new URL(`../${path}`, import.meta.url));
// The demo's own operator credentials, made for this run: creating events needs them.
const OPERATOR = {
  OPERATOR_USER: 'demo',
  OPERATOR_PASSWORD: randomBytes(18).toString('base64url'),
};
const operatorAuth = `Basic ${Buffer.from(`${OPERATOR.OPERATOR_USER}:${OPERATOR.OPERATOR_PASSWORD}`).toString('base64')}`;

async function main(): Promise<void> {
  const started = Date.now();
  const given = REDIS_VARIABLES.some((name) => process.env[name]);
  const embedded = given ? undefined : await startEmbeddedRedis();
  const redisEnv: Record<string, string> = given
    ? Object.fromEntries(
        REDIS_VARIABLES.flatMap((name) =>
          process.env[name] ? [[name, process.env[name]]] : [],
        ),
      )
    : embedded instanceof ClusterTopology
      ? { REDIS_CLUSTER_NODES: embedded.nodesEnv }
      : { REDIS_URL: embedded!.url };
  const target = validatePodiumEnv(redisEnv).redisTarget;
  const port = 3000 + Math.floor(Math.random() * 1000) + 1000;
  const redis = createRedis(target, 'podium-demo', { lazyConnect: true });
  const keys =
    target.kind === 'cluster' ? Keyspace.cluster : Keyspace.singleRedis;
  const reads = new PlacedReads(redis, keys);
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    await Promise.all(children.map((child) => stop(child)));
    await redis.quit().catch(() => undefined);
    await embedded?.destroy();
  };
  // Ctrl-C: after the run with --keep, the expected way out; during the run, an interruption.
  let interrupted: () => void = () =>
    void stopAll().then(() => process.exit(130));
  process.once('SIGINT', () => interrupted());

  try {
    await redis.connect();
    const mode = process.env.DELIVERY ?? 'ephemeral';
    console.log(
      `Redis: ${describeRedisTarget(target)}${embedded ? ' (throwaway, started for this demo)' : ''}; delivery: ${mode}\n`,
    );
    // HEALTH_PORT=0: any free port, so the demo never collides with a listeners process already running.
    const listenersEnv = { ...redisEnv, HEALTH_PORT: '0' };
    let listeners = startApp(
      'listeners',
      dist('apps/listeners/src/main.js'),
      listenersEnv,
    );
    children.push(listeners);
    children.push(
      startApp('box-office', dist('apps/box-office/src/main.js'), {
        ...redisEnv,
        PORT: String(port),
        ...OPERATOR,
      }),
    );
    const api = `http://127.0.0.1:${port}`;
    console.log(
      `Live dashboard: ${api}/dashboard (user ${OPERATOR.OPERATOR_USER}, password ${OPERATOR.OPERATOR_PASSWORD})${keep ? '' : '; add --keep to keep it up after the run'}\n`,
    );
    await waitFor(
      () =>
        fetch(`${api}/events`).then(
          (r) => r.ok,
          () => false,
        ),
      { what: 'the box office', timeoutMs: 20_000 },
    );
    await waitFor(() => listenersReady, {
      what: 'the listeners to subscribe',
      timeoutMs: 20_000,
    });

    for (const name of EVENTS) {
      const res = await post(
        `${api}/events`,
        { name, price: PRICE },
        { authorization: operatorAuth },
      );
      if (res.status !== 201 && res.status !== 409)
        throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
    }
    const before = await reads.hashSums(SALES_SUMMARY);

    const orders: Purchase[] = [];
    let restarted: Promise<void> = Promise.resolve();
    for (let i = 0; i < PURCHASES; i++) {
      if (killListeners && i === KILL_AT) {
        console.log(
          `\n*** kill -9 the listeners process (pid ${listeners.pid}); it restarts in 2 s ***\n`,
        );
        await stop(listeners, 'SIGKILL');
        restarted = sleep(2000).then(() => {
          listeners = startApp(
            'listeners',
            dist('apps/listeners/src/main.js'),
            listenersEnv,
          );
          children.push(listeners);
          console.log(`\n*** listeners restarted (pid ${listeners.pid}) ***\n`);
        });
      }
      const event = EVENTS[Math.floor(Math.random() * EVENTS.length)];
      const who = CUSTOMERS[Math.floor(Math.random() * CUSTOMERS.length)];
      const res = await post(`${api}/purchases`, {
        event,
        qty: 1 + Math.floor(Math.random() * 9),
        who,
      });
      if (res.status !== 201)
        throw new Error(`purchase: ${res.status} ${await res.text()}`);
      orders.push((await res.json()) as Purchase);
      await sleep(Math.random() * 160);
    }
    await restarted;

    // Wait until every listener has applied every order (or, when some were lost, give up
    // after a while and say so), then read the statistics.
    const complete = await waitFor(
      async () => (await unapplied(redis, keys, orders)) === 0,
      {
        what: 'every order to be applied',
        timeoutMs: killListeners ? 12_000 : 30_000,
      },
    ).catch(() => false);
    await printStatistics(api);
    await printListeners(api);
    await printCheck(reads, redis, keys, orders, before, complete);
    console.log(
      `\n${PURCHASES} purchases in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    );
    if (keep) {
      console.log(
        `\nStill running (--keep): the dashboard at ${api}/dashboard, the API at ${api}, Redis at ${describeRedisTarget(target)}. Ctrl-C stops them.`,
      );
      await new Promise<void>((resolve) => (interrupted = resolve));
    }
  } finally {
    await stopAll();
  }
}

interface Purchase {
  orderId: string;
  event: string;
  qty: number;
  cost: number;
}

async function startEmbeddedRedis(): Promise<PrivateRedis | ClusterTopology> {
  if (spawnSync('redis-server', ['--version']).error) {
    console.error(
      'The demo needs Redis. Either put redis-server on the PATH (Debian/Ubuntu: apt-get install redis-server;\n' +
        'macOS: brew install redis) and the demo starts a throwaway one, or point it at a server with\n' +
        'REDIS_URL=redis://host:6379 npm run demo',
    );
    process.exit(1);
  }
  return throwawayCluster
    ? ClusterTopology.start({ primaries: 3, replicasPerPrimary: 1 })
    : PrivateRedis.start();
}

/** Set once the listeners process said it is subscribed (the line main.ts logs when ready). */
let listenersReady = false;

/** Starts an app; shows alert and winner lines as they come, and any warning or error. */
function startApp(
  name: string,
  main: string,
  env: Record<string, string>,
): ChildProcess {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      const message = line.replace(/^\[Nest\].*?\[[^\]]+\]\s*/, '');
      if (/Listeners process ready/.test(message)) listenersReady = true;
      if (/===> Winner|^Purchase /.test(message)) console.log(message);
      else if (/\b(ERROR|WARN)\b/.test(line))
        console.log(`  (${name}) ${line}`);
    });
  }
  child.once('exit', (code, signal) => {
    if (code && code !== 0)
      console.error(
        `${name} exited with code ${code}${signal ? ` (${signal})` : ''}`,
      );
  });
  return child;
}

async function stop(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/**
 * How many orders one of the seed's listeners that should apply them has not applied yet
 * (the three base listeners, plus the lottery or the alerter). The demo checks the seed's
 * effects; other listeners the app runs are in the listeners report.
 */
async function unapplied(
  redis: RedisClient,
  keys: Keyspace,
  orders: Purchase[],
): Promise<number> {
  // Each order's markers, wherever the keyspace keeps them (one hash on one Redis).
  const marks = await Promise.all(
    orders.map(async ({ orderId, event }) => {
      const hashes = await Promise.all(
        keys
          .effectsPlaces()
          .map((place) => redis.hgetall(keys.key(place, appliedKey(orderId)))),
      );
      const all = Object.assign({}, ...hashes) as Record<string, string>;
      return seedListenersFor(event).map((listener) => all[listener]);
    }),
  );
  return marks.filter((m) => m.some((mark) => mark !== '1')).length;
}

/** Compares the statistics this run added with the purchases it made. */
async function printCheck(
  reads: PlacedReads,
  redis: RedisClient,
  keys: Keyspace,
  orders: Purchase[],
  before: Record<string, number>,
  complete: boolean,
): Promise<void> {
  const after = await reads.hashSums(SALES_SUMMARY);
  const added = (field: string) =>
    Number(after[field] ?? 0) - Number(before[field] ?? 0);
  const wrong = EVENTS.filter((event) => {
    const tickets = orders
      .filter((o) => o.event === event)
      .reduce((n, o) => n + o.qty, 0);
    return added(salesSummaryField.ticketsSold(event)) !== tickets;
  });
  const missing = await unapplied(redis, keys, orders);
  console.log(
    complete && wrong.length === 0
      ? `\nCheck: all ${orders.length} orders applied by each of the seed's listeners; the statistics match the purchases exactly.`
      : `\nCheck: ${missing} of ${orders.length} orders were missed by one of the seed's listeners; tickets sold differ for ${wrong.join(', ') || 'no event'}.` +
          (process.env.DELIVERY === 'durable'
            ? ''
            : ' (Ephemeral delivery is at most once: try DELIVERY=durable.)'),
  );
}

async function printStatistics(api: string): Promise<void> {
  const sales = (await (await fetch(`${api}/metrics/sales`)).json()) as {
    event: string;
    totalSales: number;
    ticketsSold: number;
    orders: number;
  }[];
  const winners = (await (await fetch(`${api}/lottery/winners`)).json()) as {
    orderId: string;
    who: string;
  }[];
  console.log('\n=== Sales summary');
  console.log(
    `${'event'.padEnd(20)}${'orders'.padStart(8)}${'tickets'.padStart(9)}${'sales'.padStart(10)}`,
  );
  for (const s of sales.filter((s) => EVENTS.includes(s.event))) {
    console.log(
      `${s.event.padEnd(20)}${String(s.orders).padStart(8)}${String(s.ticketsSold).padStart(9)}${`$${s.totalSales}`.padStart(10)}`,
    );
  }
  console.log('\n=== Tickets sold by hour of day (UTC)');
  for (const event of [undefined, ...EVENTS]) {
    const query = event ? `?event=${encodeURIComponent(event)}` : '';
    const { hours } = (await (
      await fetch(`${api}/metrics/histogram${query}`)
    ).json()) as { hours: number[] };
    const busy = hours
      .map((n, h) => (n ? `${String(h).padStart(2, '0')}h:${n}` : ''))
      .filter(Boolean)
      .join('  ');
    console.log(
      `${(event ?? 'all events').padEnd(20)}${busy || '-'}   [${hours.join(',')}]`,
    );
  }
  console.log(
    `\n=== Opening Ceremony lottery winners: ${winners.map((w) => `${w.orderId} (${w.who})`).join(', ') || 'none yet'}`,
  );
}

/** Every listener the listeners process announced (GET /listeners reads its directory), the seed's and any other. */
async function printListeners(api: string): Promise<void> {
  type Status = {
    name: string;
    mode: string;
    counts: Record<string, number>;
    lost: number;
  };
  const listeners = (await (
    await fetch(`${api}/listeners`)
  ).json()) as Status[];
  console.log(
    `\n=== Listeners (${listeners.length}, as the listeners process announced them)`,
  );
  const row = (...cells: string[]) =>
    cells[0].padEnd(26) +
    cells[1].padEnd(11) +
    cells
      .slice(2)
      .map((c) => c.padStart(10))
      .join('');
  console.log(
    row(
      'listener',
      'mode',
      'announced',
      'applied',
      'skipped',
      'failed',
      'lost',
    ),
  );
  for (const { name, mode, counts, lost } of listeners) {
    console.log(
      row(
        name,
        mode,
        ...[
          counts.announced,
          counts.applied,
          counts.skipped,
          counts.failed,
          lost,
        ].map(String),
      ),
    );
  }
}

const post = (
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

main().catch((err: Error) => {
  console.error(`demo failed: ${err.message}`);
  process.exit(1);
});
