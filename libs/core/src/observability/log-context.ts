import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields that every log line written while handling one thing carries (JSON logs). */
export interface LogContext {
  /** The id of the message handled (named so since podium knew only orders; log consumers rely on it). */
  orderId?: string;
  listener?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/**
 * Runs `fn` with `fields` attached to every JSON log line written inside it, across awaits:
 * a listener's lines about a message carry `orderId` and `listener` without repeating them
 * in each call. Nested contexts add to the outer one.
 */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer ? { ...outer, ...fields } : fields, fn);
}

/** The fields of the innermost withLogContext, if any. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
