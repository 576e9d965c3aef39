import {
  context,
  isSpanContextValid,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TimeInput,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

/*
 * podium's spans, on the OpenTelemetry API alone: the app registers an SDK (or not). Without
 * one the API is a no-op, and podium then spends nothing on tracing: no span, no trace
 * context written or read (tracingOn() is asked first, everywhere).
 */

/** The instrumentation scope of podium's spans. */
export const TRACER_NAME = '@podium/core';

/** A trace context as the configured propagator writes it: W3C `traceparent`, `tracestate`. */
export type TraceCarrier = Record<string, string>;

/** The tracer of the SDK registered last time one was asked for (see podiumTracer). */
let cached: { provider: TracerProvider; tracer: Tracer } | undefined;

/**
 * podium's tracer, when an OpenTelemetry SDK is registered; undefined otherwise. The API's
 * global provider is a proxy that delegates to the SDK's provider once one is registered
 * (and to nothing before, or after it is disabled); the tracer is kept per SDK provider.
 */
export function podiumTracer(): Tracer | undefined {
  const proxy = trace.getTracerProvider();
  if (!(proxy instanceof ProxyTracerProvider))
    return proxy.getTracer(TRACER_NAME);
  const provider = proxy.getDelegate();
  if (cached?.provider === provider) return cached.tracer;
  const tracer = proxy.getDelegateTracer(TRACER_NAME);
  cached = tracer && { provider, tracer };
  return tracer;
}

/** Whether an OpenTelemetry SDK is registered: without one podium makes no span and keeps no trace context. */
export function tracingOn(): boolean {
  return podiumTracer() !== undefined;
}

/** The trace context of a recording span, to store beside a message; undefined when there is none to carry. */
export function carrierOf(span: Span): TraceCarrier | undefined {
  if (!span.isRecording()) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** The context a stored trace context continues; undefined when it names no valid span. */
export function contextOf(
  carrier: TraceCarrier | undefined,
): Context | undefined {
  if (!carrier || Object.keys(carrier).length === 0) return undefined;
  const extracted = propagation.extract(ROOT_CONTEXT, carrier);
  const span = trace.getSpanContext(extracted);
  return span && isSpanContextValid(span) ? extracted : undefined;
}

export interface BatchSpanOptions {
  kind: SpanKind;
  attributes?: Attributes;
  /** When the work began, if before the span could start (its messages' contexts were read first). */
  startTime?: TimeInput;
}

/**
 * The span of work on a batch of messages (call it when tracingOn()), each message with the
 * trace context it was published in (undefined: none, announced by another program or not
 * traced). A batch of one message continues that message's trace; a batch of several is a
 * trace of its own with a link to each message's (OpenTelemetry's messaging conventions for
 * batches): a span per message would cost a span per message and listener (see the README's
 * Tracing).
 */
export function startBatchSpan(
  name: string,
  messages: readonly (Context | undefined)[],
  { kind, attributes, startTime }: BatchSpanOptions,
): { span: Span; context: Context } {
  const traced = messages.filter((m): m is Context => m !== undefined);
  const single = messages.length === 1 && traced.length === 1;
  const base = single ? traced[0] : ROOT_CONTEXT;
  const links: Link[] = single
    ? []
    : traced.map((m) => ({ context: trace.getSpanContext(m)! }));
  const span = podiumTracer()!.startSpan(
    name,
    { kind, attributes, links, startTime },
    base,
  );
  return { span, context: trace.setSpan(base, span) };
}

/**
 * Runs work done for several messages at once (the one job of a tick's publications) in
 * their trace: for one message, in its context, so that the spans the work makes (BullMQ's)
 * join its trace; for several, in a span of its own linking to each (see startBatchSpan).
 */
export function inTraceOf<T>(
  name: string,
  messages: readonly (Context | undefined)[],
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work();
  if (messages.length === 1)
    return context.with(messages[0] ?? ROOT_CONTEXT, work);
  const { span, context: spanContext } = startBatchSpan(name, messages, {
    kind: SpanKind.INTERNAL,
    attributes,
  });
  return inSpan(span, spanContext, work);
}

/** Runs `work` with `span` active, and ends it: a rejection is recorded on it (and rethrown). */
export async function inSpan<T>(
  span: Span,
  spanContext: Context,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await context.with(spanContext, work);
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span failed with an error. */
export function failed(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}
