import type { Redis } from 'ioredis';
import request from 'supertest';
import { LISTENER_MODULES } from '@podium/listeners';
import { ORDERS_CHANNEL, announceOrder } from '@podium/orders';
import {
  PrivateRedis,
  startListenersApp,
  waitFor,
  waitForApplied,
  type RunningListenersApp,
} from '@podium/testing';
import { sample } from './support/metrics.js';
import { waitForReadiness } from './support/health.js';

const BASE = ['sales-histogram', 'sales-summary', 'customer-invoices'];

describe('listeners process: health probes and metrics over HTTP', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let listeners: RunningListenersApp;
  const http = () => request(listeners.app.getHttpServer());

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    // sales-summary runs queued, so the queue checks and queue metrics have a queue to look at.
    listeners = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env: { DELIVERY_SALES_SUMMARY: 'queued' },
      logger: false,
    });
  });

  afterAll(async () => {
    await listeners?.close();
    await server?.destroy();
  });

  it('/health/live and /health/ready answer 200 with Redis, the subscriptions and the queues up', async () => {
    await http()
      .get('/health/live')
      .expect(200, { status: 'ok', info: {}, error: {}, details: {} });
    const { body } = await http().get('/health/ready').expect(200);
    expect(body.status).toBe('ok');
    expect(body.details.redis.status).toBe('up');
    expect(body.details.subscriptions).toMatchObject({ status: 'up' });
    expect([...body.details.subscriptions.patterns].sort()).toEqual([
      'purchase_orders',
      'purchase_orders:*',
      'purchase_orders:Opening Ceremony',
    ]);
    expect(body.details.queues).toMatchObject({
      status: 'up',
      workers: 1,
      groups: ['queued'],
    });
  });

  it('/metrics counts messages per listener and outcome, handler latency, and queue depth', async () => {
    const orders = [];
    for (let i = 0; i < 5; i++)
      orders.push(
        await announceOrder(redis, { event: 'Womens Judo', who: 'metrics' }),
      );
    await redis.publish(ORDERS_CHANNEL, orders[0].orderId); // a duplicate
    await redis.publish(ORDERS_CHANNEL, 'NOSUCHORDER'); // rejected
    for (const o of orders)
      await waitForApplied(redis, o.orderId, [...BASE, 'event-alerts']);

    const text = await waitFor(
      async () => {
        const { text } = await http()
          .get('/metrics')
          .expect(200)
          .expect('content-type', /^text\/plain/);
        const duplicates = sample(
          text,
          'podium_listener_messages_processed_total',
          { listener: 'customer-invoices', outcome: 'duplicate' },
        );
        const rejected = sample(
          text,
          'podium_listener_messages_processed_total',
          { listener: 'customer-invoices', outcome: 'rejected' },
        );
        const rejectedByWorker = sample(
          text,
          'podium_listener_messages_processed_total',
          { listener: 'sales-summary', outcome: 'rejected' },
        );
        return duplicates === 1 && rejected === 1 && rejectedByWorker === 1
          ? text
          : undefined;
      },
      { what: 'the duplicate and the rejection to be counted' },
    );
    const processed = (listener: string, outcome: string) =>
      sample(text, 'podium_listener_messages_processed_total', {
        listener,
        outcome,
      });
    expect(
      sample(text, 'podium_listener_messages_received_total', {
        listener: 'customer-invoices',
        mode: 'ephemeral',
      }),
    ).toBe(7);
    expect(processed('customer-invoices', 'applied')).toBe(5);
    expect(processed('event-alerts', 'applied')).toBe(5);
    expect(processed('opening-ceremony-lottery', 'skipped')).toBeUndefined(); // never heard: it listens to one event's channel
    expect(processed('sales-summary', 'applied')).toBe(5); // queued: counted when its worker applied them
    expect(
      sample(text, 'podium_listener_handler_duration_seconds_count', {
        listener: 'customer-invoices',
        outcome: 'applied',
      }),
    ).toBe(5);
    // Queued: the unknown id was enqueued and its job failed for good, where an operator finds it.
    expect(
      sample(text, 'podium_queue_jobs', { queue: 'queued', state: 'failed' }),
    ).toBe(1);
    expect(
      sample(text, 'podium_queue_oldest_waiting_job_age_seconds', {
        queue: 'queued',
      }),
    ).toBe(0);
    expect(
      sample(text, 'podium_redis_connected', { connection: 'subscriber' }),
    ).toBe(1);
    expect(
      sample(text, 'podium_redis_reconnects_total', {
        connection: 'subscriber',
      }),
    ).toBe(0);
    expect(text).toMatch(
      /^# TYPE podium_listener_handler_duration_seconds histogram$/m,
    );
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('/health/ready turns 503 while Redis is down and 200 again once it is back; reconnects are counted', async () => {
    await server.stop();
    const down = await waitForReadiness(() => http().get('/health/ready'), 503);
    expect(down.status).toBe('error');
    expect(down.error.redis.status).toBe('down');
    expect(down.error.subscriptions.status).toBe('down');
    await http().get('/health/live').expect(200);

    await server.start();
    const up = await waitFor(
      async () => {
        const res = await http().get('/health/ready');
        return res.status === 200 && res.body;
      },
      { what: 'readiness to return once Redis is back', timeoutMs: 15_000 },
    );
    expect(up.details.subscriptions.status).toBe('up');
    const { text } = await http().get('/metrics').expect(200);
    expect(
      sample(text, 'podium_redis_reconnects_total', {
        connection: 'subscriber',
      }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'podium_redis_reconnects_total', { connection: 'command' }),
    ).toBeGreaterThan(0);

    const order = await announceOrder(redis, {
      event: 'Womens Judo',
      who: 'after-outage',
    });
    await waitForApplied(redis, order.orderId, BASE, 15_000);
  });

  it('/docs-json describes the probes and /metrics', async () => {
    const { body } = await http().get('/docs-json').expect(200);
    expect(Object.keys(body.paths).sort()).toEqual([
      '/health/live',
      '/health/ready',
      '/metrics',
    ]);
  });
});
