import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  context,
  propagation,
  SpanKind,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { Redis } from 'ioredis';
import { createRedis, redisTargetFromUrl } from '@podium/redis';
import { PrivateRedis, snapshotKeyspace, waitFor } from '@podium/testing';
import { validatePodiumEnv } from '../config/index.js';
import {
  idempotencyKey,
  TRACE_CONTEXT_TTL_SECONDS,
  traceContextKey,
} from '../keyspace/index.js';
import { defineMessageType, MalformedMessageError } from '../messages/index.js';
import { standalonePublisher } from './message-publisher.js';

/** A message type of a test's own: a ticket scan at a gate. */
interface Scan {
  id: string;
  gate: string;
  tickets: number;
}
const toHash = ({ id, gate, tickets }: Scan) => ({
  id,
  gate,
  tickets: String(tickets),
});
const fromHash = (id: string, hash: Record<string, string>): Scan => {
  const tickets = Number(hash.tickets);
  if (!Number.isInteger(tickets) || tickets < 1)
    throw new Error('field "tickets" is not a whole number of at least 1');
  return { id, gate: hash.gate, tickets };
};
const SCAN = defineMessageType<Scan>()({
  name: 'scan',
  idField: 'id',
  recordKeyPrefix: 'scan:',
  toHash,
  fromHash,
  channels: (scan) => ['scans', `scans:${scan.gate}`],
});
/** An admission: a gate lets in up to `open` tickets, counted in `scanned`; it stores the gate's name in capitals. */
const ADMIT_COUNTED = join(
  mkdtempSync(join(tmpdir(), 'podium-admission-')),
  'admit-counted.lua',
);
writeFileSync(
  ADMIT_COUNTED,
  `local function admit(record, keys, args)
  local open = tonumber(redis.call('HGET', keys[1], 'open') or '0')
  local scanned = tonumber(redis.call('HGET', keys[1], 'scanned') or '0')
  local tickets = tonumber(record.tickets)
  if scanned + tickets > open then return {'full', tostring(open - scanned)} end
  redis.call('HINCRBY', keys[1], 'scanned', tickets)
  record.gate = string.upper(record.gate)
  return nil
end
`,
);
const COUNTED_SCAN = defineMessageType<Scan>()({
  name: 'counted-scan',
  idField: 'id',
  recordKeyPrefix: 'counted-scan:',
  toHash,
  fromHash,
  channels: () => ['counted-scans'],
  admission: {
    lua: ADMIT_COUNTED,
    keys: (scan) => [`gate:${scan.gate}`],
  },
});

describe('MessagePublisher, with a message type of its own', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let publish: ReturnType<typeof standalonePublisher>;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = createRedis(
      redisTargetFromUrl(server.url),
      'message-publisher-spec',
    ) as Redis;
    publish = standalonePublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: server.url }),
    );
  });
  beforeEach(() => redis.flushall());
  afterAll(async () => {
    await publish.close();
    await redis.quit();
    await server.destroy();
  });

  it('records the hash, makes an id when none is given, and announces the bare id on its channels in order', async () => {
    const subscriber = server.client();
    const heard: [string, string][] = [];
    await subscriber.psubscribe('scans*');
    subscriber.on('pmessage', (_p, channel, message) =>
      heard.push([channel, message]),
    );
    const result = await publish.publisher.publish(SCAN, {
      gate: 'north',
      tickets: 2,
    });
    expect(result).toEqual({
      outcome: 'created',
      message: {
        id: expect.stringMatching(/^[A-Z][A-Z0-9]{11}$/),
        gate: 'north',
        tickets: 2,
      },
    });
    if (result.outcome !== 'created') return;
    const { id } = result.message;
    expect(await redis.hgetall(`scan:${id}`)).toEqual({
      id,
      gate: 'north',
      tickets: '2',
    });
    await waitFor(() => heard.length === 2, { what: 'both announcements' });
    expect(heard).toEqual([
      ['scans', id],
      ['scans:north', id],
    ]);
    // No OpenTelemetry SDK here: no trace context is written.
    expect(await redis.keys('podium:trace:*')).toEqual([]);
    await subscriber.quit();
  });

  it('refuses a message its type does not read back, before anything is written', async () => {
    const before = await snapshotKeyspace(redis);
    await expect(
      publish.publisher.publish(SCAN, { id: 'S1', gate: 'north', tickets: 0 }),
    ).rejects.toThrow(
      new MalformedMessageError(
        'scan S1: field "tickets" is not a whole number of at least 1',
      ),
    );
    expect(await snapshotKeyspace(redis)).toEqual(before);
  });

  it('replays an Idempotency-Key: the first id, recorded once', async () => {
    const key = { key: 'k1', fingerprint: 'f' };
    const first = await publish.publisher.publish(
      SCAN,
      { gate: 'south', tickets: 1 },
      key,
    );
    const again = await publish.publisher.publish(
      SCAN,
      { gate: 'south', tickets: 1 },
      key,
    );
    expect(first.outcome).toBe('created');
    const id = first.outcome === 'created' ? first.message.id : '';
    expect(again).toEqual({ outcome: 'replay', id, sameRequest: true });
    expect(await redis.keys('scan:*')).toEqual([`scan:${id}`]);
    expect(await redis.hget(idempotencyKey('k1'), 'id')).toBe(id);
  });

  it("runs the type's admission in the record script: it may refuse (nothing written) or change the fields it stores", async () => {
    await redis.hset('gate:east', 'open', '3');
    const admitted = await publish.publisher.publish(COUNTED_SCAN, {
      gate: 'east',
      tickets: 2,
    });
    expect(admitted.outcome === 'created' && admitted.message.gate).toBe(
      'EAST',
    );
    const id = admitted.outcome === 'created' ? admitted.message.id : '';
    expect(await redis.hget(`counted-scan:${id}`, 'gate')).toBe('EAST');
    expect(await redis.hget('gate:east', 'scanned')).toBe('2');
    const before = await snapshotKeyspace(redis);
    expect(
      await publish.publisher.publish(COUNTED_SCAN, {
        gate: 'east',
        tickets: 2,
      }),
    ).toEqual({ outcome: 'refused', reply: ['full', '1'] });
    expect(await snapshotKeyspace(redis)).toEqual(before);
  });
});

describe('MessagePublisher, traced (an OpenTelemetry SDK registered)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let publish: ReturnType<typeof standalonePublisher>;
  const exporter = new InMemorySpanExporter();
  let sampled = true;
  let sdk: NodeSDK;
  let tracer: Tracer;

  beforeAll(async () => {
    sdk = new NodeSDK({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
      sampler: {
        shouldSample: () => ({
          decision: sampled
            ? SamplingDecision.RECORD_AND_SAMPLED
            : SamplingDecision.NOT_RECORD,
        }),
        toString: () => 'the test decides',
      },
      autoDetectResources: false,
      metricReaders: [],
      logRecordProcessors: [],
    });
    sdk.start();
    tracer = trace.getTracer('test');
    server = await PrivateRedis.start();
    redis = server.client();
    publish = standalonePublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: server.url }),
    );
  });
  beforeEach(async () => {
    await redis.flushall();
    exporter.reset();
    sampled = true;
  });
  afterAll(async () => {
    await publish.close();
    await server.destroy();
    await sdk.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it("publishes in a span of its own, a child of the caller's, and keeps its trace context beside the record; the announcement stays the bare id", async () => {
    const subscriber = server.client();
    const heard: string[] = [];
    await subscriber.subscribe('scans');
    subscriber.on('message', (_channel, message) => heard.push(message));
    const result = await tracer.startActiveSpan('request', async (request) => {
      const published = await publish.publisher.publish(SCAN, {
        gate: 'west',
        tickets: 1,
      });
      request.end();
      return published;
    });
    const id = result.outcome === 'created' ? result.message.id : '';
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'request')!;
    const span = spans.find((s) => s.name === 'publish scan')!;
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(span.attributes).toMatchObject({
      'messaging.message.id': id,
      'podium.message.type': 'scan',
      'podium.outcome': 'created',
    });
    const { traceId, spanId } = span.spanContext();
    expect(await redis.hgetall(traceContextKey(id))).toEqual({
      traceparent: `00-${traceId}-${spanId}-01`,
    });
    const ttl = await redis.ttl(traceContextKey(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TRACE_CONTEXT_TTL_SECONDS);
    expect(await redis.hgetall(`scan:${id}`)).toEqual({
      id,
      gate: 'west',
      tickets: '1',
    });
    await waitFor(() => heard.length === 1, { what: 'the announcement' });
    expect(heard).toEqual([id]);
    await subscriber.quit();
  });

  it('writes no trace context for a publication whose span does not record (not sampled)', async () => {
    sampled = false;
    const result = await publish.publisher.publish(SCAN, {
      gate: 'west',
      tickets: 1,
    });
    expect(result.outcome).toBe('created');
    expect(await redis.keys('podium:trace:*')).toEqual([]);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
