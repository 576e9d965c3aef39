import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { invoicesKey } from '@podium/orders';
import { recordListeners, registerDurableSubscription } from '@podium/core';
import {
  basicAuthHeader,
  CapturedLogger,
  OPERATOR_ENV,
  operatorAuth,
  PrivateRedis,
  waitFor,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';
import { waitForReadiness } from './support/health.js';
import { sample } from './support/metrics.js';

describe('box office operations: health, metrics, queue dashboard, rate limit, OpenAPI, errors', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let app: INestApplication;
  const logs = new CapturedLogger();
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    server = await PrivateRedis.start({ appendonly: true });
    redis = server.client();
    // A durable subscription with no listeners process running: the box office queues every
    // matching order for it, so the queue has depth to show.
    await recordListeners(redis, [
      {
        name: 'sales-summary',
        mode: 'durable',
        group: 'summaries',
        pattern: 'purchase_orders',
        queue: 'summaries',
        startedAt: Date.now(),
      },
    ]);
    await registerDurableSubscription(redis, {
      group: 'summaries',
      listeners: ['sales-summary'],
      patterns: ['purchase_orders'],
    });
    app = await startBoxOffice(
      server.url,
      { PURCHASE_RATE_LIMIT: '1000' },
      { logger: logs },
    );
    await http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Womens Judo', price: 20, capacity: 10 })
      .expect(201);
    await http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Sprint', price: 5 })
      .expect(201);
  });

  afterAll(async () => {
    await app?.close();
    await server?.destroy();
  });

  it('/metrics counts orders published and refused, HTTP requests by route, and queue depth with the oldest job age', async () => {
    for (let i = 0; i < 4; i++)
      await http()
        .post('/purchases')
        .send({ event: 'Womens Judo', qty: 2, who: 'metrics' })
        .expect(201);
    await http()
      .post('/purchases')
      .send({ event: 'Womens Judo', qty: 5, who: 'metrics' })
      .expect(409);
    await http()
      .post('/purchases')
      .send({ event: 'Curling', qty: 1, who: 'metrics' })
      .expect(404);

    // The jobs are added after the 201s: wait until the last one is counted.
    await waitFor(
      async () =>
        sample(
          (await http().get('/metrics')).text,
          'podium_durable_orders_enqueued_total',
          { group: 'summaries' },
        ) === 4,
      { what: 'the four jobs added after their purchases answered' },
    );
    const { text } = await http()
      .get('/metrics')
      .expect(200)
      .expect('content-type', /^text\/plain/);
    expect(sample(text, 'podium_orders_published_total')).toBe(4);
    expect(
      sample(text, 'podium_order_records_total', { outcome: 'created' }),
    ).toBe(4);
    expect(
      sample(text, 'podium_order_records_total', { outcome: 'sold_out' }),
    ).toBe(1);
    expect(
      sample(text, 'podium_order_record_duration_seconds_count', {
        outcome: 'created',
      }),
    ).toBe(4);
    expect(
      sample(text, 'podium_durable_orders_enqueued_total', {
        group: 'summaries',
      }),
    ).toBe(4);
    expect(
      sample(text, 'podium_http_requests_total', {
        method: 'POST',
        route: '/purchases',
        status: '201',
      }),
    ).toBe(4);
    expect(
      sample(text, 'podium_http_requests_total', {
        method: 'POST',
        route: '/purchases',
        status: '409',
      }),
    ).toBe(1);
    expect(
      sample(text, 'podium_queue_jobs', {
        queue: 'summaries',
        state: 'waiting',
      }),
    ).toBe(4);
    expect(
      sample(text, 'podium_queue_oldest_waiting_job_age_seconds', {
        queue: 'summaries',
      }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'podium_redis_connected', { connection: 'command' }),
    ).toBe(1);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('the queue dashboard refuses a request without the operator credentials (401) and serves every group queue with them', async () => {
    const refused = await http().get('/queues').expect(401);
    expect(refused.headers['www-authenticate']).toBe(
      'Basic realm="podium operator", charset="UTF-8"',
    );
    await http()
      .get('/queues/api/queues')
      .set(
        'Authorization',
        basicAuthHeader(OPERATOR_ENV.OPERATOR_USER, 'wrong password'),
      )
      .expect(401);
    await http()
      .get('/queues/api/queues')
      .set(
        'Authorization',
        basicAuthHeader('root', OPERATOR_ENV.OPERATOR_PASSWORD),
      )
      .expect(401);

    const page = await http()
      .get('/queues')
      .set('Authorization', operatorAuth)
      .expect(200);
    expect(page.text).toMatch(/<html/i);
    const { body } = await http()
      .get('/queues/api/queues')
      .set('Authorization', operatorAuth)
      .expect(200);
    const queue = body.queues.find(
      (q: { name: string }) => q.name === 'summaries',
    );
    expect(queue).toBeDefined();
    expect(queue.counts.waiting).toBe(4);
  });

  it('POST /purchases is rate limited per client: 429 with Retry-After beyond PURCHASE_RATE_LIMIT a minute, other routes are not', async () => {
    // A client of its own, behind a proxy: the box office above counted 127.0.0.1's
    // purchases, in the one count every box office on this Redis shares.
    const limited = await startBoxOffice(server.url, {
      PURCHASE_RATE_LIMIT: '3',
      TRUST_PROXY: '1',
    });
    const post = () =>
      request(limited.getHttpServer())
        .post('/purchases')
        .set('X-Forwarded-For', '198.51.100.8')
        .send({ event: 'Sprint', qty: 1, who: 'hasty' });
    try {
      for (let i = 0; i < 3; i++)
        await post().expect(201).expect('x-ratelimit-limit', '3');
      const before = await redis.scard(invoicesKey('hasty'));
      const soldBefore = await redis.hget('events:Sprint', 'sold');
      const refused = await post().expect(429);
      expect(refused.body).toEqual({
        statusCode: 429,
        message: 'too many purchases from this client: at most 3 a minute',
      });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(await redis.hget('events:Sprint', 'sold')).toBe(soldBefore); // nothing recorded
      expect(await redis.scard(invoicesKey('hasty'))).toBe(before);
      for (let i = 0; i < 5; i++)
        await request(limited.getHttpServer()).get('/events').expect(200);
    } finally {
      await limited.close();
    }
  });

  it('an unexpected error answers 500 without a stack trace or the error text', async () => {
    await redis.set(invoicesKey('broken'), 'not a set'); // another program wrote the wrong type
    const { body } = await http().get('/customers/broken/invoices').expect(500);
    expect(body).toEqual({ statusCode: 500, message: 'Internal server error' });
    expect(JSON.stringify(body)).not.toMatch(/WRONGTYPE|at .*\.(ts|js):\d+/);
    expect(logs.matching('WRONGTYPE')).toHaveLength(1); // the operator's log has it
  });

  it('/docs-json documents every endpoint, and the purchase with its body and its 400/404/409/413/422/429 answers', async () => {
    const { body: doc } = await http().get('/docs-json').expect(200);
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/alerts',
      '/customers/{who}/invoices',
      '/events',
      '/health/live',
      '/health/ready',
      '/listeners',
      '/listeners/{name}/failed',
      '/listeners/{name}/failed/retry',
      '/lottery/winners',
      '/metrics',
      '/metrics/histogram',
      '/metrics/sales',
      '/purchases',
    ]);
    const purchase = doc.paths['/purchases'].post;
    expect(Object.keys(purchase.responses).sort()).toEqual([
      '201',
      '400',
      '404',
      '409',
      '413',
      '415',
      '422',
      '429',
    ]);
    for (const status of ['400', '404', '409', '413', '415', '422', '429']) {
      expect(
        purchase.responses[status].content['application/json'].schema,
      ).toEqual({ $ref: '#/components/schemas/ErrorResponse' });
    }
    expect(
      purchase.responses['201'].content['application/json'].schema,
    ).toEqual({ $ref: '#/components/schemas/PurchaseResponse' });
    expect(purchase.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/CreatePurchaseDto',
    });
    expect(purchase.parameters).toEqual([
      expect.objectContaining({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
      }),
    ]);
    const dto = doc.components.schemas.CreatePurchaseDto;
    expect(dto.required.sort()).toEqual(['event', 'qty', 'who']);
    expect(dto.properties.qty).toMatchObject({ minimum: 1, maximum: 100 });
    expect(doc.paths['/events'].post.responses['409']).toBeDefined();
    expect(purchase.security).toBeUndefined(); // purchases need no credentials
    await http().get('/docs').expect(200).expect('content-type', /html/);
  });

  it('/health/ready answers 503 while Redis is down and 200 once it is back; /health/live stays 200', async () => {
    await http().get('/health/ready').expect(200);
    await server.stop();
    const down = await waitForReadiness(() => http().get('/health/ready'), 503);
    expect(down).toMatchObject({
      status: 'error',
      error: { redis: { status: 'down' } },
    });
    await http().get('/health/live').expect(200);
    await server.start();
    await waitFor(
      async () => (await http().get('/health/ready')).status === 200,
      { what: 'readiness to return', timeoutMs: 15_000 },
    );
    await http()
      .post('/purchases')
      .send({ event: 'Sprint', qty: 1, who: 'after-outage' })
      .expect(201);
  });
});
