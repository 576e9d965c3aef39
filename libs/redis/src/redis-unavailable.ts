/**
 * Errors that mean "Redis cannot serve this now", as opposed to a bug:
 * - down: the connection is down and the command was never sent (a fail-fast connection
 *   has no offline queue), or the server refused it while it loads its data (LOADING, a
 *   replica's full resync) or has lost its primary (MASTERDOWN), so it did not run; on a
 *   cluster, a node refused it because its slot is served elsewhere or by nobody now
 *   (MOVED, ASK once ioredis gave up following them; CLUSTERDOWN, TRYAGAIN during a
 *   failover or a migration): a refused command did not run either;
 * - no-answer: the command was sent but no answer came (the connection dropped, or the
 *   deadline passed; ioredis' AbortError for a pipelined command, auto-pipelining included,
 *   cut by the drop; ioredis' "Too many Cluster redirections", whose attempts may include
 *   one cut so): it may or may not have run;
 * - out-of-memory / read-only: Redis refuses writes (maxmemory with noeviction, a replica,
 *   a failed save): nothing was written (a script's reads before its first write did run,
 *   and Redis refused the write, so the script stopped there).
 */
export type RedisUnavailableReason =
  'down' | 'no-answer' | 'out-of-memory' | 'read-only';

export function redisUnavailableReason(
  err: unknown,
): RedisUnavailableReason | undefined {
  if (!(err instanceof Error)) return undefined;
  const message = err.message;
  if (message.startsWith('OOM ')) return 'out-of-memory';
  if (message.startsWith('READONLY ') || message.startsWith('MISCONF '))
    return 'read-only';
  if (
    message.includes('enableOfflineQueue options is false') ||
    // ioredis' cluster pipeline whose slots moved apart before it ran: nothing was sent.
    message.startsWith(
      'All keys in the pipeline should belong to the same slots',
    ) ||
    /^(LOADING|MASTERDOWN|MOVED|ASK|CLUSTERDOWN|TRYAGAIN) /.test(message)
  )
    return 'down';
  if (
    message === 'Command timed out' ||
    message.startsWith('Connection is closed') ||
    message.startsWith('Command aborted due to connection close') ||
    message.startsWith('Reached the max retries per request limit') ||
    message.startsWith('Too many Cluster redirections') ||
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/.test(message)
  ) {
    return 'no-answer';
  }
  return undefined;
}

/** What a client is told, without a stack trace or an address. */
export function redisUnavailableMessage(
  reason: RedisUnavailableReason,
): string {
  switch (reason) {
    case 'out-of-memory':
      return 'Redis is out of memory and refuses writes (maxmemory): nothing was recorded; try again later';
    case 'read-only':
      return 'Redis refuses writes (read-only, or it cannot persist): nothing was recorded; try again later';
    case 'down':
      return 'Redis is unavailable: nothing was recorded; try again later';
    case 'no-answer':
      return 'Redis did not answer: the request may or may not have been carried out; repeat it with the same Idempotency-Key to be sure';
  }
}
