import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A server's address, as ioredis takes Sentinels and cluster seeds. */
export interface HostPort {
  host: string;
  port: number;
}

/*
 * Under jest, each worker takes its ports from a range of its own, below the OS's ephemeral
 * range, and hands none out twice in a run. A port the OS picks may be one that a test
 * running beside it has just freed, by stopping or killing a server there: that test's
 * apps, reconnecting, would then write into the other test's Redis. Worker w uses ports
 * 12000 + 1000 (w - 1) to 12999 + 1000 (w - 1); a cluster node's bus port is 10000 higher,
 * still below 32768 for up to 10 workers.
 */
const WORKER_PORTS = 1000;
const FIRST_WORKER_PORT = 12_000;
const MAX_WORKERS = 10;

/** The next port of this jest worker's range (undefined outside jest): a count kept in a file per run and worker. */
function nextWorkerPort(): number | undefined {
  const worker = Number(process.env.JEST_WORKER_ID);
  if (!Number.isInteger(worker) || worker < 1 || worker > MAX_WORKERS)
    return undefined;
  // The parent process is the run's: every test file of this worker shares the count.
  const ledger = join(tmpdir(), `podium-test-ports-${process.ppid}-${worker}`);
  let handedOut = 0;
  try {
    handedOut = Number(readFileSync(ledger, 'utf8')) || 0;
  } catch {
    // the first port of this run
  }
  writeFileSync(ledger, String(handedOut + 1));
  // Runs side by side (a developer's) start at different places in the range.
  const start = (process.ppid * 7919) % WORKER_PORTS;
  return (
    FIRST_WORKER_PORT +
    (worker - 1) * WORKER_PORTS +
    ((start + handedOut) % WORKER_PORTS)
  );
}

/** A port of this jest worker's range that is free now and passes `accept`; undefined outside jest. */
async function workerPort(
  accept: (port: number) => boolean | Promise<boolean> = () => true,
): Promise<number | undefined> {
  for (let tries = 0; tries < WORKER_PORTS; tries++) {
    const port = nextWorkerPort();
    if (port === undefined) return undefined;
    if ((await isPortFree(port)) && (await accept(port))) return port;
  }
  throw new Error("no free port left in this jest worker's range");
}

/** A loopback port nobody listens on now (under jest, one of the worker's own; else the OS picks it). */
export async function freePort(): Promise<number> {
  const own = await workerPort();
  if (own !== undefined) return own;
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
 * free too; `chosen` are those found so far). Under jest, from the worker's range; else the OS
 * picks them, all held until the last is found, so none is handed out twice.
 */
export async function freePorts(
  count: number,
  accept: (port: number, chosen: number[]) => boolean | Promise<boolean> = () =>
    true,
): Promise<number[]> {
  const ports: number[] = [];
  if (process.env.JEST_WORKER_ID !== undefined) {
    while (ports.length < count) {
      const port = await workerPort((p) => accept(p, ports));
      if (port === undefined) break;
      ports.push(port);
    }
    if (ports.length === count) return ports;
  }
  const held: Server[] = [];
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
