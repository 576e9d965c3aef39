import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/** A finished span, as an in-memory exporter or an OTLP receiver has it. */
export interface SeenSpan {
  service: string;
  name: string;
  /** INTERNAL, SERVER, CLIENT, PRODUCER or CONSUMER. */
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** Epoch milliseconds. */
  startMs: number;
  durationMs: number;
  /** The span contexts it links to. */
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
}

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

const ms = ([seconds, nanos]: [number, number]) => seconds * 1e3 + nanos / 1e6;

/** A span from the SDK's in-memory exporter. */
export function seenSpan(span: ReadableSpan, service: string): SeenSpan {
  return {
    service,
    name: span.name,
    kind: KINDS[span.kind],
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    startMs: ms(span.startTime),
    durationMs: ms(span.duration),
    links: span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
    })),
    attributes: { ...span.attributes },
  };
}

/** The spans of one trace. */
export function traceOf(
  spans: readonly SeenSpan[],
  traceId: string,
): SeenSpan[] {
  return spans.filter((s) => s.traceId === traceId);
}

/** The names of a span's ancestors in its trace, nearest first. */
export function ancestors(
  spans: readonly SeenSpan[],
  span: SeenSpan,
): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const names: string[] = [];
  for (
    let parent = span.parentSpanId && byId.get(span.parentSpanId);
    parent;
    parent = parent.parentSpanId && byId.get(parent.parentSpanId)
  )
    names.push(parent.name);
  return names;
}

/**
 * A trace as a compact tree: each span's name, service, kind, start (ms after the trace's
 * first span) and duration, its children below it in the order they started.
 */
export function traceTree(spans: readonly SeenSpan[]): string {
  if (spans.length === 0) return '(no span)';
  const t0 = Math.min(...spans.map((s) => s.startMs));
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, SeenSpan[]>();
  for (const span of spans) {
    const parent =
      span.parentSpanId && ids.has(span.parentSpanId)
        ? span.parentSpanId
        : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const lines: string[] = [`trace ${spans[0].traceId}`];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort(
      (a, b) => a.startMs - b.startMs,
    )) {
      const links = span.links.length ? ` links:${span.links.length}` : '';
      lines.push(
        `${'  '.repeat(depth)}${span.name}  [${span.service}, ${span.kind.toLowerCase()}]  +${(span.startMs - t0).toFixed(1)} ms, ${span.durationMs.toFixed(2)} ms${links}`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 1);
  return lines.join('\n');
}
