/**
 * `npm run demo`: the seed's run, on the real apps. It creates the four events, starts the
 * listeners and the box office as separate processes, makes 50 random purchases, prints
 * alerts and lottery winners as the listeners log them, then the seed's statistics.
 *
 * Redis: REDIS_URL if set (never flushed), else a throwaway redis-server on a free port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { appliedKey, OPENING_CEREMONY } from '@podium/orders';
import { PrivateRedis, waitFor } from '@podium/testing';

const EVENTS = ['Womens Judo', 'Mens 4x400', OPENING_CEREMONY, 'Closing Ceremony'];
const PRICE = 20;
const PURCHASES = 50;
const CUSTOMERS = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay'];
const dist = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

async function main(): Promise<void> {
  const started = Date.now();
  const embedded = process.env.REDIS_URL ? undefined : await startEmbeddedRedis();
  const redisUrl = process.env.REDIS_URL ?? embedded!.url;
  const port = 3000 + Math.floor(Math.random() * 1000) + 1000;
  const redis = new Redis(redisUrl, { lazyConnect: true });
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    await Promise.all(children.map(stop));
    await redis.quit().catch(() => undefined);
    await embedded?.destroy();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

  try {
    await redis.connect();
    console.log(`Redis: ${redisUrl}${embedded ? ' (throwaway, started for this demo)' : ''}\n`);
    children.push(startApp('listeners', dist('apps/listeners/src/main.js'), { REDIS_URL: redisUrl }));
    children.push(startApp('box-office', dist('apps/box-office/src/main.js'), { REDIS_URL: redisUrl, PORT: String(port) }));
    const api = `http://127.0.0.1:${port}`;
    await waitFor(() => fetch(`${api}/events`).then((r) => r.ok, () => false), { what: 'the box office', timeoutMs: 20_000 });
    await waitFor(async () => listenersSubscribed(redis), { what: 'the listeners to subscribe', timeoutMs: 20_000 });

    for (const name of EVENTS) {
      const res = await post(`${api}/events`, { name, price: PRICE });
      if (res.status !== 201 && res.status !== 409) throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
    }

    const orders: { orderId: string; event: string }[] = [];
    for (let i = 0; i < PURCHASES; i++) {
      const event = EVENTS[Math.floor(Math.random() * EVENTS.length)];
      const who = CUSTOMERS[Math.floor(Math.random() * CUSTOMERS.length)];
      const res = await post(`${api}/purchases`, { event, qty: 1 + Math.floor(Math.random() * 9), who });
      if (res.status !== 201) throw new Error(`purchase: ${res.status} ${await res.text()}`);
      orders.push((await res.json()) as { orderId: string; event: string });
      await sleep(Math.random() * 60);
    }

    // Wait until every listener has applied every order, then read the statistics.
    await waitFor(async () => allApplied(redis, orders), { what: 'every order to be applied', timeoutMs: 30_000 });
    await printStatistics(api);
    console.log(`\n${PURCHASES} purchases, all applied, in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await stopAll();
  }
}

async function startEmbeddedRedis(): Promise<PrivateRedis> {
  if (spawnSync('redis-server', ['--version']).error) {
    console.error(
      'The demo needs Redis. Either put redis-server on the PATH (Debian/Ubuntu: apt-get install redis-server;\n' +
        'macOS: brew install redis) and the demo starts a throwaway one, or point it at a server with\n' +
        'REDIS_URL=redis://host:6379 npm run demo',
    );
    process.exit(1);
  }
  return PrivateRedis.start();
}

/** Starts an app; shows alert and winner lines as they come, and any warning or error. */
function startApp(name: string, main: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [main], { env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      const message = line.replace(/^\[Nest\].*?\[[^\]]+\]\s*/, '');
      if (/===> Winner|^Purchase /.test(message)) console.log(message);
      else if (/\b(ERROR|WARN)\b/.test(line)) console.log(`  (${name}) ${line}`);
    });
  }
  child.once('exit', (code, signal) => {
    if (code && code !== 0) console.error(`${name} exited with code ${code}${signal ? ` (${signal})` : ''}`);
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function listenersSubscribed(redis: Redis): Promise<boolean> {
  const clients = (await redis.client('LIST')) as string;
  return clients.split('\n').some((line) => /name=podium-listeners-sub /.test(line) && /psub=[1-9]/.test(line));
}

async function allApplied(redis: Redis, orders: { orderId: string; event: string }[]): Promise<boolean> {
  const pipeline = redis.pipeline();
  for (const { orderId } of orders) pipeline.hlen(appliedKey(orderId));
  const counts = ((await pipeline.exec()) ?? []).map(([, n]) => Number(n));
  // Every order: the three base listeners plus either the lottery or the alerter.
  return counts.every((n) => n === 4);
}

async function printStatistics(api: string): Promise<void> {
  const sales = (await (await fetch(`${api}/metrics/sales`)).json()) as { event: string; totalSales: number; ticketsSold: number; orders: number }[];
  const winners = (await (await fetch(`${api}/lottery/winners`)).json()) as { orderId: string; who: string }[];
  console.log('\n=== Sales summary');
  console.log(`${'event'.padEnd(20)}${'orders'.padStart(8)}${'tickets'.padStart(9)}${'sales'.padStart(10)}`);
  for (const s of sales.filter((s) => EVENTS.includes(s.event))) {
    console.log(`${s.event.padEnd(20)}${String(s.orders).padStart(8)}${String(s.ticketsSold).padStart(9)}${`$${s.totalSales}`.padStart(10)}`);
  }
  console.log('\n=== Tickets sold by hour of day (UTC)');
  for (const event of [undefined, ...EVENTS]) {
    const query = event ? `?event=${encodeURIComponent(event)}` : '';
    const { hours } = (await (await fetch(`${api}/metrics/histogram${query}`)).json()) as { hours: number[] };
    const busy = hours.map((n, h) => (n ? `${String(h).padStart(2, '0')}h:${n}` : '')).filter(Boolean).join('  ');
    console.log(`${(event ?? 'all events').padEnd(20)}${busy || '-'}   [${hours.join(',')}]`);
  }
  console.log(`\n=== Opening Ceremony lottery winners: ${winners.map((w) => `${w.orderId} (${w.who})`).join(', ') || 'none yet'}`);
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

main().catch((err: Error) => {
  console.error(`demo failed: ${err.message}`);
  process.exit(1);
});
