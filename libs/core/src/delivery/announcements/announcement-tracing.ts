import { Inject, Injectable } from '@nestjs/common';
import { SpanKind, type Attributes, type Context } from '@opentelemetry/api';
import { REDIS, type RedisClient } from '@podium/redis';
import { Keyspace, traceContextKey } from '../../keyspace/index.js';
import {
  isPlausibleMessageId,
  type AnyMessageType,
} from '../../messages/index.js';
import {
  contextOf,
  inSpan,
  startBatchSpan,
  tracingOn,
  type TraceCarrier,
} from '../../observability/index.js';
import type { ListenerGroup } from '../listener-group.js';
import type { Heard } from '../strategies/delivery-strategy.js';
import { MessageLoader } from '../work/message-loader.js';

/**
 * The span of a group's batch of announcements (`announcement <group>`), when an
 * OpenTelemetry SDK is registered: the trace each message was published in is read from
 * beside its record (podium:trace:<id>, written by the record script; the announcement is
 * the bare id), in the same round trip as the records themselves, which the group's work
 * then finds loaded. A batch of one message continues its trace; a batch of several is a
 * trace of its own linking to each (startBatchSpan); a message another program announced
 * has no trace context and starts a trace of its own. Everything the group does with the
 * batch (its listeners' effects, a job queued) happens in that span.
 */
@Injectable()
export class AnnouncementTracing {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly loader: MessageLoader,
  ) {}

  /** Runs a group's take of a batch (which never rejects) in the batch's span; just runs it when nothing traces. */
  take(
    group: ListenerGroup,
    batch: readonly Heard[],
    take: () => Promise<void>,
  ): Promise<void> {
    if (!tracingOn()) return take();
    return this.traced(group, batch, take);
  }

  private async traced(
    group: ListenerGroup,
    batch: readonly Heard[],
    take: () => Promise<void>,
  ): Promise<void> {
    const startTime = performance.now();
    const ids = batch.map((heard) => heard.id);
    const contexts = await this.contextsOf(group.type, ids);
    const attributes: Attributes = {
      'messaging.system': 'redis',
      'messaging.operation.type': 'process',
      'messaging.batch.message_count': ids.length,
      'podium.group': group.name,
      'podium.mode': group.mode,
    };
    if (ids.length === 1) attributes['messaging.message.id'] = ids[0];
    const { span, context } = startBatchSpan(
      `announcement ${group.name}`,
      contexts,
      { kind: SpanKind.CONSUMER, attributes, startTime },
    );
    await inSpan(span, context, take);
  }

  /**
   * Each message's trace context (undefined: none), read with its record: the records are
   * loaded at the same time, for the work that follows. Never rejects: a read that fails
   * leaves the batch untraced, and the work reads the records again.
   */
  private async contextsOf(
    type: AnyMessageType,
    ids: readonly string[],
  ): Promise<(Context | undefined)[]> {
    const readable = ids.filter(isPlausibleMessageId);
    const read = (id: string): Promise<TraceCarrier> =>
      isPlausibleMessageId(id)
        ? this.redis
            .hgetall(
              this.keys.key(
                this.keys.recordPlace(type, id),
                traceContextKey(id),
              ),
            )
            .catch(() => ({}))
        : Promise.resolve({});
    const [carriers] = await Promise.all([
      Promise.all(ids.map(read)),
      this.loader.loadMany(type, readable).catch(() => []),
    ]);
    return carriers.map(contextOf);
  }
}
