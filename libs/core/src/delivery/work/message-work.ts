import { Injectable } from '@nestjs/common';
import {
  isPlausibleMessageId,
  MalformedMessageError,
  UnknownMessageError,
  type AnyMessageType,
} from '../../messages/index.js';
import type { Effects } from '../effects/effects.js';
import { EffectApplier, type EffectEntry } from '../effects/effect-applier.js';
import type { RunningListener } from '../listener-group.js';
import { EffectsSpans } from './effects-spans.js';
import { MessageLoader } from './message-loader.js';

/** What became of one message for one listener. */
export type ListenerOutcome = 'applied' | 'duplicate' | 'skipped' | 'failed';

export interface ListenerResult {
  listener: RunningListener;
  outcome: ListenerOutcome;
  /** Why it failed: its handler threw, Redis refused its writes, or the script did not run. */
  error?: Error;
  /** Where it failed: in the listener's own handler, or in Redis (worth a retry even in ephemeral mode). */
  failedIn?: 'handler' | 'redis';
}

/**
 * A message that cannot be processed as it is: not an id or no such record, or a record
 * that is malformed (a poison message: it can be fixed and retried). Never retried by
 * itself.
 */
export class RejectedMessageError extends Error {
  constructor(
    message: string,
    readonly poison = false,
  ) {
    super(message);
  }
}

/** One message of a batch, and how to pick its listeners once it is loaded. */
export interface WorkItem {
  id: string;
  select(message: unknown): readonly RunningListener[];
}

/** What became of one message of a batch. */
export interface WorkOutcome {
  id: string;
  /** Per listener selected; empty when the message was rejected or could not be read. */
  results: ListenerResult[];
  /** The id names no readable message. */
  rejected?: RejectedMessageError;
  /** The message could not be read (Redis unreachable): none of its listeners ran. */
  unread?: Error;
}

export interface MessageWorkOptions {
  /**
   * Scripts of runs with the same key reach Redis in the order the runs were started
   * (the order the announcements arrived), so "every 5th message" means the 5th announced.
   */
  sequence?: string;
  /** Read the messages from Redis, not from the cache (a retry: a message may have been fixed). */
  fresh?: boolean;
  /**
   * A duplicate is expected (a durable group's announcement and job): not counted as one,
   * and left out of the results.
   */
  duplicatesExpected?: boolean;
}

/**
 * A batch of messages for a set of listeners, the unit of work of every delivery mode: load
 * the messages in one round trip, ask each listener for its effects on each, apply all of
 * them in one script. A listener whose handler throws fails for that message alone. When
 * the work runs in a recording span, each listener's part is a span (EffectsSpans).
 */
@Injectable()
export class MessageWork {
  /** Per sequence key: resolves once the latest run's script was sent to Redis. */
  private readonly lastIssued = new Map<string, Promise<void>>();

  constructor(
    private readonly messages: MessageLoader,
    private readonly applier: EffectApplier,
  ) {}

  /** Never rejects: every failure is in the outcomes. */
  async run(
    type: AnyMessageType,
    items: readonly WorkItem[],
    { sequence, fresh, duplicatesExpected }: MessageWorkOptions = {},
  ): Promise<WorkOutcome[]> {
    const turn = this.takeTurn(sequence);
    const spans = EffectsSpans.start();
    try {
      const { outcomes, effects } = await this.prepare(
        type,
        items,
        fresh,
        spans,
      );
      const entries: EffectEntry[] = [];
      const applying: ListenerResult[] = [];
      outcomes.forEach(({ id, results }, i) =>
        results.forEach((result, j) => {
          if (result.outcome === 'failed') return;
          entries.push({
            id,
            recordKey: type.recordKey(id),
            listener: result.listener.name,
            effects: effects[i][j],
            oneSlot: result.listener.oneSlot,
            duplicateExpected: duplicatesExpected,
          });
          applying.push(result);
        }),
      );
      await turn.previous;
      if (entries.length > 0) await this.apply(entries, applying, turn.issued);
      spans?.end(outcomes);
      // Expected, a duplicate is no outcome: not counted, in Redis (the script) nor here.
      if (duplicatesExpected)
        for (const outcome of outcomes)
          outcome.results = outcome.results.filter(
            (r) => r.outcome !== 'duplicate',
          );
      return outcomes;
    } finally {
      turn.issued();
      spans?.end([]); // ends them if the work threw before its outcomes
    }
  }

  /** Loads the messages and runs their listeners' handlers. */
  private async prepare(
    type: AnyMessageType,
    items: readonly WorkItem[],
    fresh = false,
    spans?: EffectsSpans,
  ): Promise<{ outcomes: WorkOutcome[]; effects: (Effects | null)[][] }> {
    const readable = items.filter((item) => isPlausibleMessageId(item.id));
    const loaded = await this.messages.loadMany(
      type,
      readable.map((item) => item.id),
      fresh,
    );
    const messages = new Map(readable.map((item, i) => [item, loaded[i]]));
    const outcomes: WorkOutcome[] = [];
    const effects: (Effects | null)[][] = [];
    for (const item of items) {
      const message = messages.get(item) ?? notAnId(item.id);
      if (message instanceof Error) {
        outcomes.push({
          id: item.id,
          results: [],
          ...whyUnreadable(message),
        });
        effects.push([]);
        continue;
      }
      const handled = await handle(
        item.id,
        message,
        item.select(message),
        spans,
      );
      outcomes.push({ id: item.id, results: handled.results });
      effects.push(handled.effects);
    }
    return { outcomes, effects };
  }

  private async apply(
    entries: EffectEntry[],
    applying: ListenerResult[],
    issued: () => void,
  ): Promise<void> {
    const outcomes = this.applier.apply(entries);
    issued();
    try {
      (await outcomes).forEach((outcome, i) => {
        if (outcome instanceof Error)
          Object.assign(applying[i], {
            outcome: 'failed',
            error: outcome,
            failedIn: 'redis',
          });
        else applying[i].outcome = outcome;
      });
    } catch (err) {
      for (const result of applying)
        Object.assign(result, {
          outcome: 'failed',
          error: err as Error,
          failedIn: 'redis',
        });
    }
  }

  /** A place in the sequence: wait for `previous`, call `issued` once this run's script is sent. */
  private takeTurn(sequence: string | undefined): {
    previous?: Promise<void>;
    issued: () => void;
  } {
    if (sequence === undefined) return { issued: () => undefined };
    const previous = this.lastIssued.get(sequence);
    let issued = (): void => undefined;
    const done = new Promise<void>((resolve) => (issued = resolve));
    this.lastIssued.set(sequence, done);
    void done.then(() => {
      if (this.lastIssued.get(sequence) === done)
        this.lastIssued.delete(sequence);
    });
    return { previous, issued };
  }
}

/** Runs each listener's handler on the message; a handler that throws fails alone. */
async function handle(
  id: string,
  message: unknown,
  listeners: readonly RunningListener[],
  spans?: EffectsSpans,
): Promise<{ results: ListenerResult[]; effects: (Effects | null)[] }> {
  const results: ListenerResult[] = [];
  const effects: (Effects | null)[] = [];
  for (const listener of listeners) {
    spans?.handling(listener, id);
    const startedAt = spans ? performance.now() : 0;
    try {
      const handled = listener.handle(message);
      const found = handled instanceof Promise ? await handled : handled;
      results.push({ listener, outcome: found ? 'applied' : 'skipped' });
      effects.push(found ?? null);
    } catch (err) {
      results.push({
        listener,
        outcome: 'failed',
        error: err as Error,
        failedIn: 'handler',
      });
      effects.push(null);
    }
    spans?.handled(listener, performance.now() - startedAt);
  }
  return { results, effects };
}

function notAnId(id: string): RejectedMessageError {
  return new RejectedMessageError(
    `payload is not a message id: ${JSON.stringify(id.slice(0, 80))}`,
  );
}

function whyUnreadable(err: Error): Pick<WorkOutcome, 'rejected' | 'unread'> {
  if (err instanceof RejectedMessageError) return { rejected: err };
  if (err instanceof UnknownMessageError)
    return { rejected: new RejectedMessageError(err.message) };
  if (err instanceof MalformedMessageError)
    return { rejected: new RejectedMessageError(err.message, true) };
  return { unread: err };
}
