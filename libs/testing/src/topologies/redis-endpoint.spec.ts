import { connect as connectTcp } from 'node:net';
import { Redis } from 'ioredis';
import { PrivateRedis } from '../private-redis.js';
import { closeClient } from '../redis-call.js';
import { waitFor } from '../wait-for.js';
import { managedFailover, RedisEndpoint } from './redis-endpoint.js';

/** The port of the server a connection reached (through the endpoint or not). */
async function serverPort(client: Redis): Promise<number> {
  const info = await client.info('server');
  return Number(/tcp_port:(\d+)/.exec(info)![1]);
}

describe('RedisEndpoint', () => {
  let primary: PrivateRedis | undefined;
  let replica: PrivateRedis | undefined;
  let endpoint: RedisEndpoint | undefined;
  const clients: Redis[] = [];
  const connect = (url: string) => {
    const client = new Redis(url, {
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  afterAll(async () => {
    await Promise.all(clients.map(closeClient));
    await endpoint?.close();
    await Promise.all([primary?.destroy(), replica?.destroy()]);
  });

  it('sends new connections to the new primary after a managed failover while old ones stay on the old server', async () => {
    primary = await PrivateRedis.start();
    replica = await PrivateRedis.start({ replicaOf: primary });
    endpoint = await RedisEndpoint.start(primary.port);
    expect(endpoint.url).toBe(`redis://127.0.0.1:${endpoint.port}`);

    const before = connect(endpoint.url);
    await before.set('order', 'before the failover');
    expect(await serverPort(before)).toBe(primary.port);
    expect(endpoint.connections).toBe(1);

    const roles = await managedFailover(endpoint, { primary, replica });
    expect(roles).toEqual({ primary: replica, replica: primary });
    expect(endpoint.targetPort).toBe(replica.port);

    const after = connect(endpoint.url);
    expect(await serverPort(after)).toBe(replica.port);
    expect(await after.get('order')).toBe('before the failover');
    await after.set('order', 'after the failover');
    expect(endpoint.connections).toBe(2);

    // The connection opened before the switch is still on the old primary, now a replica.
    expect(await serverPort(before)).toBe(primary.port);
    await expect(before.set('order', 'lost?')).rejects.toThrow(/READONLY/);
    await primary.waitForSync();
    expect(await before.get('order')).toBe('after the failover');

    await closeClient(after);
    await waitFor(() => endpoint!.connections === 1, {
      what: 'the endpoint to count the closed connection',
    });
  });

  it('refuses new connections while its target is down, and close() drops open ones', async () => {
    const server = await PrivateRedis.start();
    const proxy = await RedisEndpoint.start(server);
    try {
      const open = connect(proxy.url);
      expect(await open.ping()).toBe('PONG');
      await server.kill();
      await waitFor(() => proxy.connections === 0, {
        what: 'the piped connection to end with its server',
      });
      // As a server that is down: the connection ends before a byte is sent back.
      const refused = connectTcp(proxy.port, '127.0.0.1');
      let received = 0;
      refused.on('data', (data: Buffer) => (received += data.length));
      refused.on('error', () => undefined);
      await new Promise((resolve) => refused.once('close', resolve));
      expect(received).toBe(0);

      await server.start();
      const again = connect(proxy.url);
      expect(await again.ping()).toBe('PONG');
      const ended = new Promise((resolve) => again.once('end', resolve));
      await proxy.close();
      await ended;
      expect(proxy.connections).toBe(0);
    } finally {
      await proxy.close().catch(() => undefined);
      await server.destroy();
    }
  });
});
