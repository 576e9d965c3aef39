import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { LISTENER_MODULES } from '@podium/listeners';
import { invoicesKey, announceOrder } from '@podium/orders';
import {
  ListenersProcess,
  operatorAuth,
  PrivateRedis,
  startListenersApp,
  waitForApplied,
  type RunningListenersApp,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';
import {
  makeTestCertificates,
  type TestCertificates,
} from './support/tls-certs.js';

const BASE = ['sales-histogram', 'sales-summary', 'customer-invoices'];
const LISTENERS_MAIN = fileURLToPath(
  new URL('../dist/apps/listeners/src/main.js', import.meta.url),
);

/** Connects without credentials and returns what the server answers to PING. */
async function pingWithoutCredentials(
  port: number,
  tls?: { ca: Buffer },
): Promise<string> {
  const anonymous = new Redis({
    host: '127.0.0.1',
    port,
    tls,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  anonymous.on('error', () => undefined);
  try {
    await anonymous.connect();
    return await anonymous.ping();
  } catch (err) {
    return (err as Error).message;
  } finally {
    anonymous.disconnect();
  }
}

describe.each([
  [
    'an ACL user (username and password in REDIS_URL)',
    { username: 'podium', password: 'p0dium acl/secret@#' },
  ],
  ['requirepass (password only)', { password: 'just-a-password' }],
])('Redis with authentication: %s', (_name, auth) => {
  let server: PrivateRedis;
  let boxOffice: INestApplication;
  let listeners: RunningListenersApp;

  beforeAll(async () => {
    server = await PrivateRedis.start({ auth });
    // customer-invoices runs queued: BullMQ's connections authenticate too.
    listeners = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env: { DELIVERY_CUSTOMER_INVOICES: 'queued' },
      logger: false,
    });
    boxOffice = await startBoxOffice(server.url);
  });

  afterAll(async () => {
    await boxOffice?.close();
    await listeners?.close();
    await server?.destroy();
  });

  it('the server refuses a client without credentials', async () => {
    expect(await pingWithoutCredentials(server.port)).toMatch(
      /NOAUTH|WRONGPASS/,
    );
  });

  it('every podium connection authenticates: a purchase is recorded, announced and applied; both apps are ready', async () => {
    const http = () => request(boxOffice.getHttpServer());
    await http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Secured', price: 10 })
      .expect(201);
    const { body } = await http()
      .post('/purchases')
      .send({ event: 'Secured', qty: 1, who: 'acl' })
      .expect(201);
    await waitForApplied(server.client(), body.orderId, BASE);
    await http().get('/health/ready').expect(200);
    await request(listeners.app.getHttpServer())
      .get('/health/ready')
      .expect(200);
  });
});

describe('Redis over TLS (rediss://) with an ACL user', () => {
  let certs: TestCertificates;
  let server: PrivateRedis;
  let listeners: ListenersProcess | undefined;

  beforeAll(async () => {
    certs = makeTestCertificates();
    server = await PrivateRedis.start({
      tls: certs,
      auth: { username: 'podium', password: 'tls-and-acl-secret' },
    });
  });

  afterAll(async () => {
    if (listeners && !listeners.exited) await listeners.kill();
    await server?.destroy();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('the listeners process (compiled) connects with TLS, trusting the CA from NODE_EXTRA_CA_CERTS, and applies orders', async () => {
    expect(server.url).toMatch(
      /^rediss:\/\/podium:tls-and-acl-secret@127\.0\.0\.1:\d+$/,
    );
    expect(
      await pingWithoutCredentials(server.port, {
        ca: readFileSync(certs.caFile),
      }),
    ).toMatch(/NOAUTH/);
    listeners = await ListenersProcess.start(LISTENERS_MAIN, {
      REDIS_URL: server.url,
      NODE_EXTRA_CA_CERTS: certs.caFile,
      DELIVERY_CUSTOMER_INVOICES: 'durable',
    });
    const redis = server.client();
    const order = await announceOrder(redis, {
      event: 'Encrypted',
      who: 'tls',
    });
    await waitForApplied(redis, order.orderId, BASE);
    expect(await redis.smembers(invoicesKey('tls'))).toEqual([order.orderId]);
    const ready = await fetch(`${listeners.healthUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await listeners.terminate()).toBe(0);
  });
});
