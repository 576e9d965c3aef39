import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { OPENING_CEREMONY, announceOrder } from '@podium/orders';
import {
  ListenersProcess,
  operatorAuth,
  PrivateRedis,
  waitFor,
  waitForApplied,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';

const dist = (app: string) =>
  fileURLToPath(new URL(`../dist/apps/${app}/src/main.js`, import.meta.url));

interface LogLine {
  level: number;
  msg: string;
  app: string;
  context?: string;
  orderId?: string;
  listener?: string;
  req?: { method: string; url: string; headers?: unknown };
  res?: { statusCode: number };
}

const parse = (lines: string[]): LogLine[] =>
  lines.map((line) => JSON.parse(line) as LogLine);

describe('LOG_FORMAT=json: one JSON object per line, the exact texts in msg, the order id on lines about an order', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let listeners: ListenersProcess | undefined;
  let boxOffice: INestApplication | undefined;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
  });

  afterAll(async () => {
    if (listeners && !listeners.exited) await listeners.terminate();
    await boxOffice?.close();
    await server?.destroy();
  });

  it('the listeners process (compiled main.js) logs JSON lines; winner and alert lines carry orderId and listener', async () => {
    listeners = await ListenersProcess.start(dist('listeners'), {
      REDIS_URL: server.url,
      LOG_FORMAT: 'json',
    });
    const fans = [];
    for (let i = 0; i < 5; i++)
      fans.push(
        await announceOrder(redis, { event: OPENING_CEREMONY, who: `fan${i}` }),
      );
    const judo = await announceOrder(redis, {
      event: 'Womens Judo',
      qty: 3,
      cost: '60',
    });
    for (const o of fans)
      await waitForApplied(redis, o.orderId, ['opening-ceremony-lottery']);
    await waitForApplied(redis, judo.orderId, ['event-alerts']);
    const winnerText = `===> Winner!!!!! Opening Ceremony Lottery - Order Id: ${fans[4].orderId}`;
    const lines = await waitFor(
      () => {
        const parsed = parse(listeners!.output);
        const done =
          parsed.some((l) => l.msg === winnerText) &&
          parsed.some((l) => l.msg === 'Purchase Womens Judo: #3 $60');
        return done ? parsed : undefined;
      },
      { what: 'the winner and alert lines' },
    );
    expect(
      lines.every((l) => l.app === 'listeners' && typeof l.level === 'number'),
    ).toBe(true);
    expect(lines.find((l) => l.msg === winnerText)).toMatchObject({
      level: 30,
      context: 'OpeningCeremonyLottery',
      orderId: fans[4].orderId,
      listener: 'opening-ceremony-lottery',
    });
    expect(
      lines.find((l) => l.msg === 'Purchase Womens Judo: #3 $60'),
    ).toMatchObject({
      context: 'EventAlerts',
      orderId: judo.orderId,
      listener: 'event-alerts',
    });
    expect(
      lines.some((l) => l.msg === 'Nest microservice successfully started'),
    ).toBe(true);
    expect(
      lines.some((l) => /^Listeners process ready: subscribed to /.test(l.msg)),
    ).toBe(true);
    // Lines that are not about one order have no orderId.
    expect(
      lines.find((l) => l.msg === 'Nest microservice successfully started')
        ?.orderId,
    ).toBeUndefined();
    expect(await listeners.terminate()).toBe(0);
  });

  it('the box office logs one access line per request, with the order id of a purchase and without credentials', async () => {
    const out: string[] = [];
    boxOffice = await startBoxOffice(
      server.url,
      { LOG_FORMAT: 'json' },
      { logDestination: { write: (line: string) => void out.push(line) } },
    );
    const http = () => request(boxOffice!.getHttpServer());
    await http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Sprint', price: 5 })
      .expect(201);
    const { body } = await http()
      .post('/purchases')
      .set('Authorization', 'Bearer secret-token')
      .send({ event: 'Sprint', qty: 2, who: 'ann' })
      .expect(201);
    await http().get('/health/ready').expect(200);
    await http().get('/metrics').expect(200);
    const lines = await waitFor(
      () => {
        const parsed = parse(out);
        return parsed.some((l) => l.req?.url === '/purchases')
          ? parsed
          : undefined;
      },
      { what: 'the access log line of the purchase' },
    );
    expect(lines.find((l) => l.req?.url === '/purchases')).toMatchObject({
      app: 'box-office',
      msg: 'request completed',
      orderId: body.orderId,
      req: { method: 'POST', url: '/purchases' },
      res: { statusCode: 201 },
    });
    expect(out.join('\n')).not.toContain('secret-token');
    expect(
      lines.some((l) => /^\/(health|metrics)/.test(l.req?.url ?? '')),
    ).toBe(false); // probes and scrapes are not logged
    expect(
      lines.some(
        (l) =>
          l.context === 'NestApplication' &&
          l.msg === 'Nest application successfully started',
      ),
    ).toBe(true);
  });
});

describe('a bad or missing variable stops start-up with a message naming it', () => {
  const run = (app: string, env: Record<string, string>) =>
    spawnSync(process.execPath, [dist(app)], {
      env: { PATH: process.env.PATH, NO_COLOR: '1', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });

  // The compiled apps, as an operator starts them (every rule is unit tested in podium-env.spec.ts).
  it.each([
    [
      'box-office',
      { PORT: 'eighty' },
      /Cannot start: Invalid configuration: .*PORT must be an integer/,
    ],
    [
      'listeners',
      { LOG_FORMAT: 'xml' },
      /LOG_FORMAT must be one of pretty, json/,
    ],
  ])('%s with %j', (app, env, message) => {
    const result = run(app, env);
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toMatch(message);
  });
});
