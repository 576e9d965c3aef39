import {
  context,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { failed, podiumTracer } from '../../observability/index.js';
import type { RunningListener } from '../listener-group.js';
import type { WorkOutcome } from './message-work.js';

interface ListenerSpan {
  span: Span;
  messages: Set<string>;
  handlerMs: number;
}

/**
 * The spans of one unit of work's listeners: `effects <listener>`, one per listener of the
 * batch, children of the span the work runs in (the batch's announcement, or BullMQ's span
 * of the job). Each starts as its listener's first handler is called and ends once the
 * batch's effects script answered (all of a group's effects are one script): its time is
 * the handlers' and the script's, `podium.handler_ms` the handlers' alone. It counts the
 * outcomes; a message that failed is an event naming it, with its error, and the span's
 * status an error. Made only under a recording span: untraced work makes none.
 */
export class EffectsSpans {
  private readonly spans = new Map<string, ListenerSpan>();
  private ended = false;

  private constructor(
    private readonly parent: Context,
    private readonly tracer: Tracer,
  ) {}

  static start(): EffectsSpans | undefined {
    const tracer = podiumTracer();
    if (!tracer || !trace.getActiveSpan()?.isRecording()) return undefined;
    return new EffectsSpans(context.active(), tracer);
  }

  /** A listener's handler is about to run on a message. */
  handling(listener: RunningListener, id: string): void {
    let entry = this.spans.get(listener.name);
    if (!entry) {
      const span = this.tracer.startSpan(
        `effects ${listener.name}`,
        {
          attributes: {
            'podium.listener': listener.name,
            'podium.group': listener.group,
            'podium.mode': listener.mode,
          },
        },
        this.parent,
      );
      this.spans.set(
        listener.name,
        (entry = { span, messages: new Set(), handlerMs: 0 }),
      );
    }
    entry.messages.add(id);
  }

  /** The listener's handler took this long. */
  handled(listener: RunningListener, ms: number): void {
    const entry = this.spans.get(listener.name);
    if (entry) entry.handlerMs += ms;
  }

  /** The work is done (its script answered): its outcomes on the spans, which end (once). */
  end(outcomes: readonly WorkOutcome[]): void {
    if (this.ended) return;
    this.ended = true;
    const counts = new Map<string, Record<string, number>>();
    for (const { id, results, rejected, unread } of outcomes) {
      const unreadable = rejected ?? unread;
      if (unreadable)
        trace.getSpan(this.parent)?.addEvent('unreadable', {
          'messaging.message.id': id,
          'exception.message': unreadable.message,
        });
      for (const { listener, outcome, error } of results) {
        const count = counts.get(listener.name) ?? {};
        count[outcome] = (count[outcome] ?? 0) + 1;
        counts.set(listener.name, count);
        const entry = this.spans.get(listener.name);
        if (outcome === 'failed' && entry) {
          entry.span.addEvent('failed', {
            'messaging.message.id': id,
            'exception.message': error?.message ?? 'failed',
          });
          failed(entry.span, error);
        }
      }
    }
    for (const [name, { span, messages, handlerMs }] of this.spans) {
      const attributes: Attributes = {
        'messaging.batch.message_count': messages.size,
        'podium.handler_ms': Math.round(handlerMs * 1000) / 1000,
      };
      if (messages.size === 1)
        attributes['messaging.message.id'] = [...messages][0];
      for (const [outcome, n] of Object.entries(counts.get(name) ?? {}))
        attributes[`podium.outcome.${outcome}`] = n;
      span.setAttributes(attributes);
      span.end();
    }
  }
}
