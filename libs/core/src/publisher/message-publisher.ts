import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { context, SpanKind, trace, type Context } from '@opentelemetry/api';
import type { Telemetry } from 'bullmq';
import type { Registry } from 'prom-client';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import {
  appliedKey,
  idempotencyKey,
  listenerStatsKey,
  OUTBOX,
  queuedField,
  TRACE_CONTEXT_TTL_SECONDS,
  traceContextKey,
  type Keyspace,
  type Place,
} from '../keyspace/index.js';
import {
  MalformedMessageError,
  type IdField,
  type MessageHash,
  type MessageType,
  type Unpublished,
} from '../messages/index.js';
import {
  carrierOf,
  inSpan,
  inTraceOf,
  METRICS_REGISTRY,
  podiumTracer,
  registryOrPrivate,
  withLogContext,
  type TraceCarrier,
} from '../observability/index.js';
import {
  createMessageEnqueuer,
  MessageEnqueuer,
  RecordPlaces,
} from '../queues/index.js';
import { REDIS, redactSecrets, type RedisClient } from '@podium/redis';
import { RecordReplication } from './record-replication.js';
import { MessageRoutes } from './record/message-routes.js';
import { PublisherMetrics } from './record/publisher-metrics.js';
import { recordScriptOf } from './record/record-script.js';
import { TickBatch } from './record/tick-batch.js';

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** A recorded message to queue, and the place of its record path (where its outbox entries are). */
interface Queued {
  type: string;
  id: string;
  place: Place;
  /** The trace its publication is in, when traced: its job joins it (see TickBatch). */
  trace?: Context;
}

/** A publication's span, when an OpenTelemetry SDK is registered. */
interface Tracing {
  context: Context;
  /** Its trace context, stored beside the message when the span is recording. */
  carrier?: TraceCarrier;
}

/** What became of a publication. */
export type PublishResult<T> =
  /** Recorded and announced now: the message as stored (its id, and what its admission set). */
  | { outcome: 'created'; message: T }
  /** The Idempotency-Key is known: `id` is the message it recorded; `sameRequest` when the fingerprints agree. */
  | { outcome: 'replay'; id: string; sameRequest: boolean }
  /** The type's admission refused it: what its Lua returned (`['sold_out', '3']`). Nothing was written. */
  | { outcome: 'refused'; reply: string[] };

export interface Idempotency {
  key: string;
  /** A digest of the request: the same key with a different request is not a replay. */
  fingerprint: string;
}

/**
 * The publisher: records a message once and announces it, in one script (record.lua,
 * behind the type's admission), and answers: one round trip. That script also enters the
 * message in the outbox for every durable subscription that hears it, which is the
 * guarantee that a durable listener gets every message whose publication succeeded, even
 * one made while no listeners process runs. The jobs themselves are added after the
 * answer, off the caller's path: the messages of one tick share one job per group
 * (TickBatch), and their outbox entries are cleared once the job exists (on replicas too,
 * with REDIS_WAIT_REPLICAS). Should this process die or Redis refuse before that, an
 * outbox relay adds the job after the grace (OutboxRelay); a retry with the same
 * Idempotency-Key queues it at once. The scripts of concurrent publications go to Redis in
 * one write (the shared connection auto-pipelines).
 */
@Injectable()
export class MessagePublisher {
  private readonly logger = new Logger('Publisher');
  private readonly metrics: PublisherMetrics;
  private readonly routes: MessageRoutes;
  private readonly batches = new Map<string, TickBatch<Queued, void>>();
  private readonly places: RecordPlaces;
  /** Jobs being added after their publications answered: waited for at shutdown. */
  private readonly queueing = new Set<Promise<void>>();

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(PODIUM_SETTINGS) private readonly env: PodiumSettings,
    private readonly enqueuer: MessageEnqueuer,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
    @Optional()
    private readonly replication: RecordReplication = new RecordReplication(
      env,
    ),
  ) {
    this.metrics = new PublisherMetrics(registryOrPrivate(registry));
    this.routes = new MessageRoutes(redis);
    this.places = new RecordPlaces(redis, enqueuer.keys);
  }

  /** Where podium's keys live (one Redis or a cluster). */
  get keys(): Keyspace {
    return this.enqueuer.keys;
  }

  /**
   * Records a message and announces it, with every guarantee (see the class). A message
   * without an id gets a new one (on a cluster, placed as its type says). Every log line
   * written while recording carries the id (JSON logs). Rejects, writing nothing, a
   * message its type's fromHash does not read back (MalformedMessageError naming the
   * field; a type with an admission is checked by its own publisher, since the admission
   * may fill fields in), and rejects when Redis does not take it (down, out of memory,
   * failing over): then nothing was announced.
   */
  async publish<T, K extends IdField<T>>(
    type: MessageType<T, K>,
    message: Unpublished<T, K>,
    idempotency?: Idempotency,
  ): Promise<PublishResult<T>> {
    const given = message[type.definition.idField as keyof typeof message];
    const id =
      typeof given === 'string' && given !== ''
        ? given
        : this.keys.newId(type, message);
    const complete = type.withId(message, id);
    const hash = checkedHash(type, complete);
    return withLogContext({ orderId: id }, async () => {
      const stop = this.metrics.duration.startTimer();
      const result = await this.traced(type, id, (tracing) =>
        this.record(type, complete, hash, idempotency, tracing),
      );
      const outcome =
        result.outcome === 'refused'
          ? (result.reply[0] ?? 'refused')
          : result.outcome;
      stop({ outcome });
      this.metrics.records.inc({ outcome });
      if (result.outcome === 'created') this.metrics.published.inc();
      return result;
    });
  }

  /**
   * Runs a publication in a span of its own (`publish <type>`, a child of the caller's: the
   * HTTP request's), when an SDK is registered; nothing at all otherwise.
   */
  private async traced<T>(
    type: { name: string },
    id: string,
    record: (tracing?: Tracing) => Promise<PublishResult<T>>,
  ): Promise<PublishResult<T>> {
    const tracer = podiumTracer();
    if (!tracer) return record();
    const span = tracer.startSpan(`publish ${type.name}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'redis',
        'messaging.operation.type': 'send',
        'messaging.message.id': id,
        'podium.message.type': type.name,
      },
    });
    const spanContext = trace.setSpan(context.active(), span);
    return inSpan(span, spanContext, async () => {
      const result = await record({
        context: spanContext,
        carrier: carrierOf(span),
      });
      span.setAttribute('podium.outcome', result.outcome);
      return result;
    });
  }

  private async record<T, K extends IdField<T>>(
    type: MessageType<T, K>,
    message: T,
    hash: MessageHash,
    idempotency?: Idempotency,
    tracing?: Tracing,
  ): Promise<PublishResult<T>> {
    const keys = this.keys;
    const id = type.idOf(message);
    if (!keys.fits(type, message))
      throw new Error(
        `${type.name} ${id} cannot be recorded on this cluster: its record would not be in the slot of ` +
          `${type.definition.placedBy?.(message)} (leave its id empty and podium makes one that is)`,
      );
    // Behind Sentinel, a failover under way: the primary being demoted would lose the write.
    this.replication.beforeWrite();
    const channels = type.channels(message);
    const { durable, listeners } = await this.routes.of(channels);
    // Everything the script writes lives in the record's slot (one place on one Redis).
    const recordKey = type.recordKey(id);
    const place = keys.placeOf(recordKey);
    await this.places.register([place]);
    // REDIS_WAIT_REPLICAS: a created or replayed message answers only once replicas have it.
    const recorded = this.replication.watch(this.redis, 'record', recordKey);
    const admission = type.definition.admission;
    const admissionKeys = admission?.keys(message) ?? [];
    const admissionArgs = admission?.args?.(message) ?? [];
    const fields = Object.entries(hash).flat();
    const carrier = Object.entries(tracing?.carrier ?? {}).flat();
    const [outcome, ...rest] = await recordScriptOf(type).run<string[]>(
      this.redis,
      [
        recordKey,
        idempotency
          ? keys.key(place, idempotencyKey(idempotency.key))
          : recordKey,
        keys.key(place, OUTBOX),
        keys.key(place, appliedKey(id)),
        carrier.length > 0 ? keys.key(place, traceContextKey(id)) : recordKey,
        ...admissionKeys,
        ...listeners.map((l) => keys.key(place, listenerStatsKey(l))),
      ],
      [
        idempotency?.fingerprint ?? '',
        IDEMPOTENCY_TTL_SECONDS,
        id,
        this.env.APPLIED_MARKER_TTL_SECONDS,
        admissionKeys.length,
        TRACE_CONTEXT_TTL_SECONDS,
        fields.length,
        ...fields,
        admissionArgs.length,
        ...admissionArgs,
        channels.length,
        ...channels,
        carrier.length,
        ...carrier,
        ...durable.flatMap((group) => [group, queuedField(group)]),
      ],
    );
    switch (outcome) {
      case 'created': {
        await recorded.confirmed();
        this.queueAfterAnswer(
          { type: type.name, id, place, trace: tracing?.context },
          durable,
        );
        const stored: Record<string, string> = {};
        for (let i = 0; i < rest.length; i += 2) stored[rest[i]] = rest[i + 1];
        return { outcome, message: type.fromHash(id, stored) };
      }
      case 'replay': {
        const [knownId, fingerprint, ...unqueued] = rest;
        const sameRequest = fingerprint === idempotency?.fingerprint;
        if (sameRequest) {
          await recorded.confirmed();
          this.queueAfterAnswer(
            { type: type.name, id: knownId, place, trace: tracing?.context },
            unqueued,
          );
        }
        return { outcome, id: knownId, sameRequest };
      }
      default:
        return { outcome: 'refused', reply: rest };
    }
  }

  /**
   * Resolves once the jobs of the publications answered so far are added (or left to the
   * outbox relay): before the process stops, so that a graceful stop leaves none to it.
   */
  async drain(): Promise<void> {
    while (this.queueing.size > 0) await Promise.allSettled(this.queueing);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  /**
   * Queues a recorded message for its durable groups, after its publication answered. When
   * Redis does not let that finish (down, out of memory, replicas not confirming), the
   * outbox entries stay and the outbox relay adds the jobs after the grace: counted, and
   * logged.
   */
  private queueAfterAnswer(message: Queued, groups: readonly string[]): void {
    if (groups.length === 0) return;
    const queued = Promise.all(
      groups.map((group) => this.batchOf(group).add(message)),
    ).then(
      () => {
        for (const group of groups) this.metrics.enqueued.inc({ group });
      },
      (err: unknown) => {
        this.metrics.leftToRelay.inc();
        this.logger.warn(
          `${message.type} ${message.id} is recorded; queueing it for ${groups.join(', ')} is left to the outbox relay: ${redactSecrets((err as Error).message)}`,
        );
      },
    );
    this.queueing.add(queued);
    void queued.finally(() => this.queueing.delete(queued));
  }

  /** The messages of one tick for a group: one job. */
  private batchOf(group: string): TickBatch<Queued, void> {
    let batch = this.batches.get(group);
    if (!batch) {
      batch = new TickBatch(async (messages) => {
        this.metrics.jobMessageIds.observe({ group }, messages.length);
        // REDIS_WAIT_REPLICAS: the outbox entries go only once replicas have the job.
        const queued = this.replication.watch(
          this.enqueuer.queues.redis,
          'jobs',
          this.enqueuer.queues.get(group).toKey('meta'),
        );
        const places = new Map(messages.map((m) => [m.id, m.place]));
        // BullMQ's span of the job joins the publication's trace (or links to each).
        await inTraceOf(
          `enqueue ${group}`,
          messages.map((m) => m.trace),
          {
            'podium.group': group,
            'messaging.batch.message_count': messages.length,
          },
          () =>
            this.enqueuer.enqueue(
              group,
              [...places.keys()],
              (id) => places.get(id)!,
              () => queued.confirmed(),
            ),
        );
      });
      this.batches.set(group, batch);
    }
    return batch;
  }
}

/**
 * The hash a message is recorded as. A message that would be recorded malformed (or with no
 * field: HSET needs one) is refused before Redis sees it.
 */
function checkedHash<T, K extends IdField<T>>(
  type: MessageType<T, K>,
  message: T,
): MessageHash {
  const id = type.idOf(message);
  const hash = type.toHash(message);
  if (Object.keys(hash).length === 0)
    throw new MalformedMessageError(
      `${type.name} ${id}: its record has no field (toHash gave none)`,
    );
  if (!type.definition.admission) type.fromHash(id, hash);
  return hash;
}

/**
 * The publisher outside a Nest app (the bench, a script): it opens its queue connection
 * itself, and close() closes it. Its metrics go to `registry` when given; BullMQ's telemetry
 * (bullmq-otel) to its queues when given.
 */
export function standalonePublisher(
  redis: RedisClient,
  env: PodiumSettings,
  registry?: Registry,
  keys?: Keyspace,
  telemetry?: Telemetry,
): { publisher: MessagePublisher; close: () => Promise<void> } {
  const enqueuer = createMessageEnqueuer(redis, env, keys, telemetry);
  const publisher = new MessagePublisher(
    redis,
    env,
    enqueuer,
    registry,
    new RecordReplication(env),
  );
  return {
    publisher,
    close: async () => {
      await publisher.drain();
      await enqueuer.queues.close();
    },
  };
}
