import { Redis, type Cluster, type RedisOptions } from 'ioredis';

/**
 * Sends one command on a connection of its own that fails at once if the server is down
 * (no retries, no offline queue), for polls of servers a test may have killed.
 */
export async function callOnce(
  options: RedisOptions,
  command: string,
  ...args: (string | number)[]
): Promise<unknown> {
  const connection = new Redis({
    ...options,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    // The reply is in: nothing to wait for. (ioredis would otherwise keep a 2 s timer for
    // a connection the server closed, e.g. by CLIENT KILL, and hold up jest's workers.)
    disconnectTimeout: 0,
  });
  connection.on('error', () => undefined);
  try {
    await connection.connect();
    return await connection.call(command, ...args);
  } finally {
    if (connection.status !== 'end') connection.disconnect();
  }
}

/** INFO's text as field → value (section headers and blank lines left out). */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) {
      fields[line.slice(0, colon)] = line.slice(colon + 1);
    }
  }
  return fields;
}

/**
 * Disconnects a client and waits until its sockets are closed ('end'), so that nothing of
 * it is left when a test file ends.
 */
export async function closeClient(client: Redis | Cluster): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise((resolve) => client.once('end', resolve));
  client.disconnect();
  await ended;
}
