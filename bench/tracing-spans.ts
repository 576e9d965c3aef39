/**
 * `node dist/bench/tracing-spans.js` (after `npm run build`): what a listeners process pays for
 * the spans of a batch of announcements, the two ways a batch can be traced:
 *
 * - **links** (podium's): one `announcement <group>` span per batch, linking to each order's
 *   trace, and one `effects <listener>` span per listener of the batch;
 * - **per order**: an `announcement <group>` span per order, in its order's trace, and one
 *   `effects <listener>` span per order and listener.
 *
 * Each runs in a child process of its own with an OpenTelemetry SDK as the apps set it up
 * (a batch span processor with its defaults, OTLP over HTTP with protobuf bodies, 100%
 * sampling), exporting to a receiver in this process that keeps nothing, at a steady
 * 2,000 orders/s in batches of 10 and of 77 orders (the mean batch at saturation in the
 * bench's durable runs) for five listeners, making the spans as podium's code makes them
 * (startBatchSpan, and the effects spans' attributes). Measured: the child's CPU per order
 * (user + system, the export included) less that of the same loop without an SDK, the spans
 * and bytes exported per order, and the spans the processor dropped (its queue full).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  context,
  propagation,
  SpanKind,
  trace,
  type Context,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { contextOf, podiumTracer, startBatchSpan } from '@podium/core';
import { SEED_LISTENERS } from '@podium/orders';
import { OtlpSink } from './lib/tracing.js';

type Way = 'off' | 'links' | 'per-order';

interface Measure {
  way: Way;
  batch: number;
  orders: number;
  cpuUsPerOrder: number;
  spansPerOrder: number;
  bytesPerOrder: number;
  dropped: number;
}

const RATE = 2000;
const SECONDS = 4;
const BATCHES = [10, 77];

/** Trace contexts as the listeners read them from beside the records (publications' spans), made before the measure. */
const TRACEPARENTS = Array.from(
  { length: 4096 },
  () =>
    `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
);
let next = 0;
function publishedContext(): Context {
  return contextOf({
    traceparent: TRACEPARENTS[next++ % TRACEPARENTS.length],
  })!;
}

/** The spans of one batch, made the way `way` says. */
function traceBatch(way: Way, orders: string[]): void {
  if (way === 'off') return;
  const tracer = podiumTracer()!;
  const contexts = orders.map(() => publishedContext());
  const attributes = {
    'messaging.system': 'redis',
    'messaging.operation.type': 'process',
    'podium.group': 'durable',
    'podium.mode': 'durable',
  };
  const effects = (parent: Context, ids: string[]) => {
    for (const listener of SEED_LISTENERS) {
      const span = tracer.startSpan(
        `effects ${listener}`,
        {
          attributes: {
            'podium.listener': listener,
            'podium.group': 'durable',
            'podium.mode': 'durable',
          },
        },
        parent,
      );
      span.setAttributes({
        'messaging.batch.message_count': ids.length,
        'podium.handler_ms': 0.01,
        'podium.outcome.applied': ids.length,
        ...(ids.length === 1 && { 'messaging.message.id': ids[0] }),
      });
      span.end();
    }
  };
  const batches = way === 'links' ? [orders] : orders.map((id) => [id]);
  batches.forEach((ids, i) => {
    const { span, context: spanContext } = startBatchSpan(
      'announcement durable',
      way === 'links' ? contexts : [contexts[i]],
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...attributes,
          'messaging.batch.message_count': ids.length,
          ...(ids.length === 1 && { 'messaging.message.id': ids[0] }),
        },
      },
    );
    effects(spanContext, ids);
    span.end();
  });
}

/** The child: the loop for one way and batch size; reports its figures to the parent. */
async function child(way: Way, batch: number, sinkUrl: string): Promise<void> {
  let exported = 0;
  let sdk: NodeSDK | undefined;
  let processor: BatchSpanProcessor | undefined;
  if (way !== 'off') {
    const exporter = new OTLPTraceExporter({ url: `${sinkUrl}/v1/traces` });
    const counting: SpanExporter = {
      export: (spans, done) => {
        exported += spans.length;
        exporter.export(spans, done);
      },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush(),
    };
    processor = new BatchSpanProcessor({ exporter: counting });
    sdk = new NodeSDK({
      spanProcessors: [processor],
      sampler: new AlwaysOnSampler(),
      autoDetectResources: false,
      metricReaders: [],
      logRecordProcessors: [],
    });
    sdk.start();
  }
  const made = { spans: 0 };
  const orders = RATE * SECONDS;
  const perBatchMs = (1000 * batch) / RATE;
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `ORDER${i}`);
  // A warm-up second, then the measure.
  for (const [n, measured] of [
    [RATE, false],
    [orders, true],
  ] as const) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let done = 0; done < n; done += batch) {
      traceBatch(way, ids(batch));
      made.spans +=
        way === 'links'
          ? 1 + SEED_LISTENERS.length
          : batch * (1 + SEED_LISTENERS.length);
      const due = t0 + ((done + batch) / batch) * perBatchMs;
      await sleep(Math.max(0, due - performance.now()));
    }
    await processor?.forceFlush();
    const cpu = process.cpuUsage(cpu0);
    if (measured)
      process.send!({
        way,
        batch,
        orders: n,
        cpuUsPerOrder: (cpu.user + cpu.system) / n,
        spansPerOrder: way === 'off' ? 0 : exported / (RATE + n),
        bytesPerOrder: 0,
        dropped: way === 'off' ? 0 : made.spans - exported,
      } satisfies Measure);
  }
  await sdk?.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

async function main(): Promise<void> {
  const [way, batch, sinkUrl] = process.argv.slice(2);
  if (way) return child(way as Way, Number(batch), sinkUrl);
  const sink = await OtlpSink.start();
  const measures: Measure[] = [];
  for (const size of BATCHES)
    for (const w of ['off', 'links', 'per-order'] as const) {
      const bytes0 = sink.bytes;
      const measure = await new Promise<Measure>((resolve, reject) => {
        const proc = fork(fileURLToPath(import.meta.url), [
          w,
          String(size),
          sink.url,
        ]);
        proc.once('message', (m) => resolve(m as Measure));
        proc.once(
          'exit',
          (code) => code && reject(new Error(`${w}: exit ${code}`)),
        );
      });
      measure.bytesPerOrder = (sink.bytes - bytes0) / (RATE + measure.orders);
      measures.push(measure);
    }
  await sink.close();
  console.log(
    `Spans of a batch, five listeners, ${RATE} orders/s for ${SECONDS} s, CPU per order less the untraced loop's:`,
  );
  console.log(
    'batch | way       | CPU µs/order | spans/order | bytes/order | dropped',
  );
  for (const size of BATCHES) {
    const off = measures.find((m) => m.batch === size && m.way === 'off')!;
    for (const m of measures.filter((x) => x.batch === size && x.way !== 'off'))
      console.log(
        `${String(size).padStart(5)} | ${m.way.padEnd(9)} | ${(m.cpuUsPerOrder - off.cpuUsPerOrder).toFixed(1).padStart(12)} | ${m.spansPerOrder.toFixed(2).padStart(11)} | ${m.bytesPerOrder.toFixed(0).padStart(11)} | ${m.dropped}`,
      );
  }
}

await main();
