import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { appliedKey, QUEUE_PREFIX, traceContextKey } from '@podium/core';
import { OPENING_CEREMONY, SEED_LISTENERS } from '@podium/orders';
import {
  BoxOfficeProcess,
  ListenersProcess,
  OPERATOR_ENV,
  operatorAuth,
  PrivateRedis,
  waitFor,
} from '@podium/testing';
import { OtlpReceiver } from './support/otlp-receiver.js';
import { ancestors, traceOf, traceTree } from './support/trace-tree.js';

const BOX_OFFICE_MAIN = fileURLToPath(
  new URL('../dist/apps/box-office/src/main.js', import.meta.url),
);
const LISTENERS_MAIN = fileURLToPath(
  new URL('../dist/apps/listeners/src/main.js', import.meta.url),
);

/*
 * The compiled apps, as they ship, export their traces over OTLP/HTTP to a receiver on
 * loopback, configured by the standard variables alone: the box office's and the listeners'
 * spans of one purchase share one trace. The exporter waits a minute between batches here,
 * so that the spans arrive when each app stops gracefully: that stop exports what is left.
 */
describe('the compiled apps export one trace per purchase over OTLP/HTTP', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let receiver: OtlpReceiver;
  let listeners: ListenersProcess | undefined;
  let boxOffice: BoxOfficeProcess | undefined;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    receiver = await OtlpReceiver.start();
  });

  afterAll(async () => {
    for (const app of [boxOffice, listeners])
      if (app && !app.exited) await app.kill();
    await receiver?.close();
    await server?.destroy();
  });

  it('durable listeners: the HTTP span, the record script, the job and every listener’s effects, across both services', async () => {
    const tracing = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    };
    listeners = await ListenersProcess.start(LISTENERS_MAIN, {
      REDIS_URL: server.url,
      DELIVERY: 'durable',
      LISTENERS: SEED_LISTENERS.join(','),
      ...tracing,
    });
    boxOffice = await BoxOfficeProcess.start(BOX_OFFICE_MAIN, {
      REDIS_URL: server.url,
      ...OPERATOR_ENV,
      PURCHASE_RATE_LIMIT: '0',
      ...tracing,
    });
    const created = await fetch(`${boxOffice.url}/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: operatorAuth,
      },
      body: JSON.stringify({ name: OPENING_CEREMONY, price: 20 }),
    });
    expect(created.status).toBe(201);
    let purchases = 0;
    const purchase = async (who: string) => {
      const answer = await fetch(`${boxOffice!.url}/purchases`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event: OPENING_CEREMONY, qty: 1, who }),
      });
      expect(answer.status).toBe(201);
      const { orderId } = (await answer.json()) as { orderId: string };
      purchases++;
      await waitFor(
        async () =>
          (await redis.hmget(appliedKey(orderId), ...SEED_LISTENERS)).every(
            (marker) => marker !== null,
          ) &&
          (await redis.zcard(`${QUEUE_PREFIX}:durable:completed`)) >= purchases,
        { what: `${orderId} applied by the five listeners, its job done` },
      );
      return orderId;
    };
    // The first purchase after a start also loads scripts and opens the queues' connection,
    // in its trace; the second is a purchase like any other.
    await purchase('ann');
    const orderId = await purchase('bob');
    // Probes are not traced.
    expect((await fetch(`${boxOffice.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${listeners.healthUrl}/health/ready`)).status).toBe(
      200,
    );
    const traceparent = await redis.hget(
      traceContextKey(orderId),
      'traceparent',
    );
    const traceId = traceparent?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    // A graceful stop exports the spans still waiting for their batch.
    expect(await boxOffice.terminate()).toBe(0);
    expect(await listeners.terminate()).toBe(0);
    const expected = [
      'POST /purchases',
      'publish order',
      'evalsha',
      'add durable.1 message',
      'announcement durable',
      ...SEED_LISTENERS.map((l) => `effects ${l}`),
      'process durable',
    ];
    const found = await waitFor(
      () => {
        const spans = traceOf(receiver.spans, traceId!);
        return expected.every((n) => spans.some((s) => s.name === n))
          ? spans
          : undefined;
      },
      { what: `a trace with ${expected.join(', ')}` },
    );
    console.log(
      `compiled apps, durable: one purchase's trace\n${traceTree(found)}`,
    );

    const named = (name: string) => found.find((s) => s.name === name)!;
    expect(receiver.refused).toEqual([]);
    expect(new Set(found.map((s) => s.service))).toEqual(
      new Set(['podium-box-office', 'podium-listeners']),
    );
    const http = named('POST /purchases');
    expect(http).toMatchObject({
      service: 'podium-box-office',
      kind: 'SERVER',
    });
    expect(http.parentSpanId).toBeUndefined();
    expect(http.attributes['http.route']).toBe('/purchases');
    expect(named('publish order').parentSpanId).toBe(http.spanId);
    expect(named('evalsha').service).toBe('podium-box-office');
    expect(named('announcement durable').service).toBe('podium-listeners');
    for (const listener of SEED_LISTENERS)
      expect(ancestors(found, named(`effects ${listener}`))).toEqual([
        'announcement durable',
        'publish order',
        'POST /purchases',
      ]);
    expect(ancestors(found, named('process durable'))).toEqual([
      'add durable.1 message',
      'publish order',
      'POST /purchases',
    ]);
    // No trace of a probe, nor of BullMQ's housekeeping.
    expect(
      receiver.spans.filter((s) =>
        String(s.attributes['url.path']).startsWith('/health'),
      ),
    ).toEqual([]);
    expect(receiver.spans.map((s) => s.name)).not.toContain(
      'moveStalledJobsToWait durable',
    );
  });
});
