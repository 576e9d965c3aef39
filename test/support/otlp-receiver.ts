import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SeenSpan } from './trace-tree.js';

/** An attribute as OTLP/JSON writes it. */
interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpAttribute[];
  links?: { traceId: string; spanId: string }[];
}
interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

// OTLP's span kinds, from SPAN_KIND_UNSPECIFIED.
const KINDS = [
  'UNSPECIFIED',
  'INTERNAL',
  'SERVER',
  'CLIENT',
  'PRODUCER',
  'CONSUMER',
];

const valueOf = (v: OtlpValue): unknown =>
  v.stringValue ?? v.boolValue ?? v.doubleValue ?? Number(v.intValue);

const attributesOf = (list: OtlpAttribute[] = []): Record<string, unknown> =>
  Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/**
 * A trace receiver on loopback, as a collector would be: it takes OTLP over HTTP with JSON
 * bodies (POST /v1/traces; the apps' exporter sends them with
 * OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and keeps every span it is sent.
 */
export class OtlpReceiver {
  readonly spans: SeenSpan[] = [];
  /** Requests that were not OTLP/JSON traces (must stay empty). */
  readonly refused: string[] = [];

  private constructor(private readonly server: Server) {}

  /** http://127.0.0.1:<port>: OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds /v1/traces). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<OtlpReceiver> {
    const kept: { receiver?: OtlpReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          if (req.method !== 'POST' || req.url !== '/v1/traces')
            throw new Error(`${req.method} ${req.url}`);
          kept.receiver!.take(
            JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraces,
          );
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{}');
        } catch (err) {
          kept.receiver!.refused.push((err as Error).message);
          res.writeHead(400).end();
        }
      });
    });
    const receiver = (kept.receiver = new OtlpReceiver(server));
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    return receiver;
  }

  private take(body: OtlpTraces): void {
    for (const { resource, scopeSpans = [] } of body.resourceSpans ?? []) {
      const name = attributesOf(resource?.attributes)['service.name'];
      const service = typeof name === 'string' ? name : '?';
      for (const { spans = [] } of scopeSpans)
        for (const span of spans) {
          const start = BigInt(span.startTimeUnixNano);
          const end = BigInt(span.endTimeUnixNano);
          this.spans.push({
            service,
            name: span.name,
            kind: KINDS[span.kind] ?? String(span.kind),
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            startMs: Number(start / 1000n) / 1000,
            durationMs: Number(end - start) / 1e6,
            links: (span.links ?? []).map((l) => ({
              traceId: l.traceId,
              spanId: l.spanId,
            })),
            attributes: attributesOf(span.attributes),
          });
        }
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
