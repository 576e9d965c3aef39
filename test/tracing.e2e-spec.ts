import nodeHttp from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { context, propagation, trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import { BullMQOtel } from 'bullmq-otel';
import type { Redis } from 'ioredis';
import { DELIVERY_MODES, traceContextKey } from '@podium/core';
import { LISTENER_MODULES } from '@podium/listeners';
import {
  announceOrder,
  OPENING_CEREMONY,
  SEED_LISTENERS,
} from '@podium/orders';
import {
  operatorAuth,
  PrivateRedis,
  startListenersApp,
  waitFor,
  type RunningListenersApp,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';
import {
  ancestors,
  seenSpan,
  traceOf,
  traceTree,
  type SeenSpan,
} from './support/trace-tree.js';

/*
 * One trace per purchase, from the box office's HTTP span to every listener's effects, in
 * every delivery mode: the box office and the listeners app in this process, on a private
 * Redis, an OpenTelemetry SDK with HTTP instrumentation and an in-memory exporter, BullMQ's
 * telemetry (bullmq-otel) on their queues and workers. The announcement stays the bare id;
 * the trace context travels beside the record (podium:trace:<id>).
 */

/** Heard by every one of the seed's five listeners (the alerter skips it in code, in its span). */
const EVENT = OPENING_CEREMONY;

describe('traces across the fan-out (in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  const httpInstrumentation = new HttpInstrumentation({
    ignoreOutgoingRequestHook: () => true,
  });
  let sdk: NodeSDK;
  let server: PrivateRedis;
  let redis: Redis;
  const spans = (): SeenSpan[] =>
    exporter.getFinishedSpans().map((s) => seenSpan(s, 'in-process'));

  beforeAll(async () => {
    sdk = new NodeSDK({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
      // The server's spans only: the test's own requests start no trace.
      instrumentations: [httpInstrumentation],
      autoDetectResources: false,
      metricReaders: [],
      logRecordProcessors: [],
    });
    sdk.start();
    // Jest hands modules out its own way, past the require hook the instrumentation relies
    // on: it is given Node's http module to patch (the one the box office's server runs on).
    for (const definition of httpInstrumentation.getModuleDefinitions())
      if (definition.name === 'http') definition.patch?.(nodeHttp);
    server = await PrivateRedis.start();
    redis = server.client();
  });

  afterAll(async () => {
    await server?.destroy();
    httpInstrumentation.disable();
    await sdk?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  describe.each(DELIVERY_MODES)('%s delivery', (mode) => {
    let listeners: RunningListenersApp;
    let boxOffice: NestExpressApplication;
    let url: string;

    beforeAll(async () => {
      await redis.flushall();
      // The listeners first: the box office learns the durable subscriptions from Redis.
      listeners = await startListenersApp({
        redisUrl: server.url,
        listeners: LISTENER_MODULES,
        env: { DELIVERY: mode, LISTENERS: SEED_LISTENERS.join(',') },
        logger: false,
        queueTelemetry: new BullMQOtel('bullmq'),
      });
      boxOffice = await startBoxOffice(
        server.url,
        { PURCHASE_RATE_LIMIT: '0' },
        { logger: false, queueTelemetry: new BullMQOtel('bullmq') },
      );
      await boxOffice.listen(0, '127.0.0.1');
      url = (await boxOffice.getUrl()).replace('[::1]', '127.0.0.1');
      const created = await fetch(`${url}/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: operatorAuth,
        },
        body: JSON.stringify({ name: EVENT, price: 20 }),
      });
      expect(created.status).toBe(201);
    });

    afterAll(async () => {
      await listeners?.close();
      await boxOffice?.close();
    });

    beforeEach(() => exporter.reset());

    /** Waits until a trace holds every span named, and returns it. */
    const traceWith = (traceId: string, names: string[]) =>
      waitFor(
        () => {
          const found = traceOf(spans(), traceId);
          return names.every((n) => found.some((s) => s.name === n))
            ? found
            : undefined;
        },
        { what: `a trace with ${names.join(', ')}`, timeoutMs: 15_000 },
      );

    it('one purchase is one trace: the HTTP span, the record script, the announcement and every listener’s effects (and the BullMQ job)', async () => {
      const answer = await fetch(`${url}/purchases`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event: EVENT, qty: 2, who: 'ann' }),
      });
      expect(answer.status).toBe(201);
      const { orderId } = (await answer.json()) as { orderId: string };

      const http = await waitFor(
        () =>
          spans().find(
            (s) =>
              s.kind === 'SERVER' && s.attributes['url.path'] === '/purchases',
          ),
        { what: 'the HTTP span of POST /purchases' },
      );
      const effects = SEED_LISTENERS.map((l) => `effects ${l}`);
      const job = [`add ${mode}.1 message`, `process ${mode}`];
      const found = await traceWith(http.traceId, [
        'publish order',
        `announcement ${mode}`,
        ...effects,
        ...(mode === 'ephemeral' ? [] : job),
      ]);
      console.log(`${mode}: one purchase's trace\n${traceTree(found)}`);

      const named = (name: string) => found.find((s) => s.name === name)!;
      expect(http.parentSpanId).toBeUndefined();
      const publish = named('publish order');
      expect(publish.parentSpanId).toBe(http.spanId);
      expect(publish.attributes['messaging.message.id']).toBe(orderId);
      const announcement = named(`announcement ${mode}`);
      expect(announcement.kind).toBe('CONSUMER');
      expect(announcement.parentSpanId).toBe(publish.spanId);
      expect(announcement.attributes['messaging.message.id']).toBe(orderId);
      // Every listener's effects lead back to the HTTP span: on the announcement (ephemeral,
      // durable) or on the job (queued; its job was queued by the announcement).
      for (const name of effects) {
        const chain = ancestors(found, named(name));
        expect(chain).toContain(
          mode === 'queued' ? `process ${mode}` : `announcement ${mode}`,
        );
        expect(chain.at(-1)).toBe(http.name);
      }
      if (mode !== 'ephemeral') {
        // BullMQ's own spans of the job: added by the box office after its answer (durable)
        // or by the listeners' announcement (queued), processed by the group's worker.
        expect(ancestors(found, named(`add ${mode}.1 message`))[0]).toBe(
          mode === 'durable' ? 'publish order' : `announcement ${mode}`,
        );
        expect(ancestors(found, named(`process ${mode}`))[0]).toBe(
          `add ${mode}.1 message`,
        );
      }
      // The context traveled beside the record, the announcement being the bare id.
      expect(await redis.hget(traceContextKey(orderId), 'traceparent')).toBe(
        `00-${http.traceId}-${publish.spanId}-01`,
      );
    });

    it('an order another program announces (HSET, PUBLISH) starts a trace of its own', async () => {
      const order = await announceOrder(redis, { event: EVENT, who: 'zed' });
      const announcement = await waitFor(
        () =>
          spans().find(
            (s) =>
              s.name === `announcement ${mode}` &&
              s.attributes['messaging.message.id'] === order.orderId,
          ),
        { what: "the order's announcement span" },
      );
      const found = await traceWith(announcement.traceId, [
        ...SEED_LISTENERS.map((l) => `effects ${l}`),
        ...(mode === 'ephemeral' ? [] : [`process ${mode}`]),
      ]);
      console.log(
        `${mode}: an order announced by another program\n${traceTree(found)}`,
      );
      expect(announcement.parentSpanId).toBeUndefined();
      expect(announcement.links).toEqual([]);
      expect(found.some((s) => s.kind === 'SERVER')).toBe(false);
      expect(await redis.exists(traceContextKey(order.orderId))).toBe(0);
    });
  });
});
