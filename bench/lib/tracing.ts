/**
 * The traced variants' tracing: where their spans go (a receiver that keeps nothing), the
 * variables that turn the apps' tracing on, and the bench's own publisher traced for a run
 * (it plays the box office in the scenarios that publish from the bench).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler } from '@opentelemetry/sdk-trace';
import type { Telemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';

/**
 * An OTLP/HTTP trace receiver on loopback, in the bench's process, that reads what it is sent
 * and keeps nothing but the count: what a collector costs the traced processes, without a
 * collector's own work on the machine.
 */
export class OtlpSink {
  requests = 0;
  bytes = 0;
  private readonly server: Server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (this.bytes += chunk.length));
    req.on('end', () => {
      this.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });

  static async start(): Promise<OtlpSink> {
    const sink = new OtlpSink();
    await new Promise<void>((resolve) =>
      sink.server.listen(0, '127.0.0.1', resolve),
    );
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * The standard variables that make a podium app trace everything to the sink: 100%
 * sampling, OTLP over HTTP with protobuf bodies (the SDK's default), batches every 5 s or
 * 512 spans (its defaults too).
 */
export function tracingEnv(sink: OtlpSink): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_TRACES_SAMPLER: 'always_on',
  };
}

/**
 * Traces the bench's own publisher for a run, as the box office is traced (no HTTP span:
 * each publication's span starts its trace): an SDK in the bench's process exporting to the
 * sink, and BullMQ's telemetry for the publisher's queues. stop() exports what is left and
 * takes the SDK away again, so that the next run is untraced.
 */
export function traceBenchPublisher(sink: OtlpSink): {
  telemetry: Telemetry;
  stop: () => Promise<void>;
} {
  const sdk = new NodeSDK({
    serviceName: 'podium-bench-publisher',
    traceExporter: new OTLPTraceExporter({ url: `${sink.url}/v1/traces` }),
    sampler: new AlwaysOnSampler(),
    autoDetectResources: false,
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    telemetry: new BullMQOtel('bullmq'),
    stop: async () => {
      await sdk.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
