// Tracing for the podium apps (OpenTelemetry), set up from the standard OTEL_* variables by
// the entry points before the app itself loads: the instrumentations must patch http and
// ioredis before anything imports them. Off unless configured; nothing of the SDK is even
// loaded then. No static import but Node's: the entry points load this first.
import { register } from 'node:module';
import type { Telemetry } from 'bullmq';

/**
 * Whether the environment asks for traces: an OTLP endpoint, or an exporter named
 * (OTEL_TRACES_EXPORTER, `none` excepted), and the SDK not disabled (OTEL_SDK_DISABLED).
 */
export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (exporters.length > 0) return !exporters.includes('none');
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() ||
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim(),
  );
}

/** The modules the instrumentations patch. */
const INSTRUMENTED = ['ioredis', 'http', 'node:http'];

/** Requests not worth a trace: probes and scrapes, every few seconds each. */
const UNTRACED_PATHS = /^\/(health\/|metrics$|metrics\?)/;

let started:
  { telemetry: Telemetry; shutdown: () => Promise<void> } | undefined;

/**
 * Starts OpenTelemetry's Node SDK when the environment asks for traces: the exporter, the
 * sampler, the service name and the rest from the standard variables (OTEL_SERVICE_NAME,
 * default `podium-<app>`; OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL; OTEL_TRACES_SAMPLER, _ARG;
 * OTEL_BSP_*...), with the HTTP server's spans and ioredis' (a command's span only under
 * another: no trace of its own for a heartbeat). Traces only: podium's metrics are
 * Prometheus' (/metrics) and its logs pino's.
 */
export async function startTracing(app: string): Promise<void> {
  if (!tracingConfigured(process.env)) return;
  // The apps are ES modules: a loader hook lets the instrumentations patch what they import.
  // In the app's thread where Node allows it (24.11.1 and later): the box office then starts
  // in 2.7 s rather than 3.4 to 4 s with the hook's own thread (2.1 s untraced), measured.
  const hooks = await import('import-in-the-middle/register-hooks.mjs');
  if (hooks.supportsSyncHooks()) hooks.register({ include: INSTRUMENTED });
  else
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
      data: { include: INSTRUMENTED },
    });
  const [sdkNode, http, ioredis, bullmqOtel, api] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('bullmq-otel'),
    import('@opentelemetry/api'),
  ]);
  const sdk = new sdkNode.NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ? undefined : `podium-${app}`,
    instrumentations: [
      new http.HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          UNTRACED_PATHS.test(request.url ?? ''),
        // Express knows the route once it is matched: the server span is named after it.
        applyCustomAttributesOnSpan: (span, request) => {
          const route = (request as { route?: { path?: unknown } }).route?.path;
          if (typeof route !== 'string' || !('method' in request)) return;
          span.setAttribute('http.route', route);
          span.updateName(`${request.method} ${route}`);
        },
      }),
      new ioredis.IORedisInstrumentation({
        requireParentSpan: true,
        dbStatementSerializer: redisStatement,
      }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  started = {
    telemetry: withoutHousekeeping(new bullmqOtel.BullMQOtel('bullmq'), api),
    shutdown: () => sdk.shutdown(),
  };
}

/**
 * What a Redis command's span says of it: its name and first argument (a key), never the
 * values (a script's arguments hold customers' names; credentials are never shown).
 */
function redisStatement(command: string, args: unknown[]): string {
  if (args.length === 0 || /^(auth|hello|acl|config|migrate)$/i.test(command))
    return command;
  const more = args.length > 1 ? ` [${args.length - 1} other arguments]` : '';
  return `${command} ${String(args[0])}${more}`;
}

/** BullMQ's telemetry (bullmq-otel) for PodiumModule's queues and workers, once tracing started. */
export function queueTelemetry(): Telemetry | undefined {
  return started?.telemetry;
}

/** Exports the spans not exported yet (at a graceful stop). */
export async function stopTracing(): Promise<void> {
  await started?.shutdown();
}

/**
 * BullMQ's telemetry without the spans of a worker's housekeeping, which belong to no job:
 * its stalled-job checks (a span every QUEUE_STALLED_CHECK_MS, all under one span opened as
 * the worker starts: a trace that never ends) and the polls that find no job. They are the
 * INTERNAL spans BullMQ starts outside any span; every span of a job (added, taken,
 * processed, completed, retried) stays.
 */
function withoutHousekeeping(
  telemetry: Telemetry,
  api: typeof import('@opentelemetry/api'),
): Telemetry {
  const tracer = telemetry.tracer;
  const internal: number = 0; // BullMQ's SpanKind.INTERNAL
  const dropped = {
    setSpanOnContext: (ctx: unknown) => ctx,
    setAttribute: () => undefined,
    setAttributes: () => undefined,
    addEvent: () => undefined,
    recordException: () => undefined,
    end: () => undefined,
  };
  telemetry.tracer = {
    startSpan: (name, options, context) =>
      (options?.kind as number | undefined) === internal &&
      !api.trace.getSpan(
        (context as import('@opentelemetry/api').Context | undefined) ??
          api.context.active(),
      )
        ? dropped
        : tracer.startSpan(name, options, context),
  };
  return telemetry;
}
