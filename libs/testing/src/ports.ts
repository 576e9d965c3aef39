import { connect, createServer, type Server } from 'node:net';

/** A server's address, as ioredis takes Sentinels and cluster seeds. */
export interface HostPort {
  host: string;
  port: number;
}

/** A loopback port nobody listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` can be bound on loopback now. */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `count` distinct free loopback ports, each passing `accept` (e.g. its cluster bus port is
 * free too; `chosen` are those found so far). All are held until the last is found, so none is handed out twice.
 */
export async function freePorts(
  count: number,
  accept: (port: number, chosen: number[]) => boolean | Promise<boolean> = () =>
    true,
): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < count; tries += 1) {
      if (tries > count * 100) throw new Error(`no ${count} free ports found`);
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      held.push(server);
      const { port } = server.address() as { port: number };
      if (await accept(port, ports)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(
      held.map((server) => new Promise((resolve) => server.close(resolve))),
    );
  }
}
