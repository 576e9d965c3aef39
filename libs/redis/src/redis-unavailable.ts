/**
 * Errors that mean "Redis cannot serve this now", as opposed to a bug: the connection is
 * down (no offline queue on a fail-fast connection), a command timed out, or Redis refuses
 * writes because it is out of memory (maxmemory with noeviction) or read-only.
 */
export type RedisUnavailableReason = 'down' | 'out-of-memory' | 'read-only' | 'timeout';

export function redisUnavailableReason(err: unknown): RedisUnavailableReason | undefined {
  if (!(err instanceof Error)) return undefined;
  const message = err.message;
  if (message.startsWith('OOM ')) return 'out-of-memory';
  if (message.startsWith('READONLY ') || message.startsWith('MISCONF ')) return 'read-only';
  if (message === 'Command timed out') return 'timeout';
  if (
    message.includes("enableOfflineQueue options is false") ||
    message.startsWith('Connection is closed') ||
    message.startsWith('Reached the max retries per request limit') ||
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/.test(message)
  ) {
    return 'down';
  }
  return undefined;
}

/** What a client is told, without a stack trace or an address. */
export function redisUnavailableMessage(reason: RedisUnavailableReason): string {
  switch (reason) {
    case 'out-of-memory':
      return 'Redis is out of memory and refuses writes (maxmemory): nothing was recorded; try again later';
    case 'read-only':
      return 'Redis refuses writes (read-only or cannot persist): nothing was recorded; try again later';
    case 'timeout':
      return 'Redis did not answer in time; try again later';
    case 'down':
      return 'Redis is unavailable: nothing was recorded; try again later';
  }
}
