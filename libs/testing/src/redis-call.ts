import { Redis, type RedisOptions } from 'ioredis';

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
  });
  connection.on('error', () => undefined);
  try {
    await connection.connect();
    return await connection.call(command, ...args);
  } finally {
    // On an ended connection ioredis' disconnect() would leave a 2 s timer behind.
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
