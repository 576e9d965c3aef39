import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../ports.js';
import { waitFor } from '../wait-for.js';
import type { PrivateRedis } from '../private-redis.js';

type Target = number | { port: number };

const portOf = (target: Target) =>
  typeof target === 'number' ? target : target.port;

/**
 * A managed Redis service's endpoint (a DNS name that the provider moves to the promoted
 * replica on failover), played by a TCP proxy on a free loopback port. Each new connection
 * goes to the current target; connections opened before a switch stay on their old target,
 * as they would stay on the IP address the name resolved to when they connected.
 * It also plays the network between an app and Redis: silence() makes every open
 * connection go quiet without closing it, as a NAT or load balancer that forgot them would.
 */
export class RedisEndpoint {
  private readonly sockets = new Set<Socket>();
  /** Each open connection's two sockets, to silence them. */
  private readonly pairs = new Set<[Socket, Socket]>();
  private open = 0;
  private silenced = 0;
  readonly host = '127.0.0.1';

  private constructor(
    private readonly server: Server,
    private target: number,
  ) {
    server.on('connection', (incoming) => this.pipe(incoming));
  }

  static async start(target: Target): Promise<RedisEndpoint> {
    const server = createServer();
    // A port of the test's own (see freePort): apps keep reconnecting to the endpoint.
    const port = await freePort();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return new RedisEndpoint(server, portOf(target));
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The port new connections go to. */
  get targetPort(): number {
    return this.target;
  }

  /** Open client connections (each piped to the target it was opened on). */
  get connections(): number {
    return this.open;
  }

  /** Connections silenced so far (silence()). */
  get silencedConnections(): number {
    return this.silenced;
  }

  /**
   * Stops carrying the bytes of every connection open now, both ways, without closing it
   * (no FIN, no RST): how a NAT, a load balancer or a cloud network fails when it forgets
   * a connection. New connections go through as before. Returns how many were silenced.
   */
  silence(): number {
    const count = this.pairs.size;
    for (const [incoming, upstream] of this.pairs) {
      incoming.unpipe(upstream);
      upstream.unpipe(incoming);
      incoming.pause();
      upstream.pause();
    }
    this.pairs.clear();
    this.silenced += count;
    return count;
  }

  /** Sends new connections to `target`; open ones stay where they are. */
  switchTo(target: Target): void {
    this.target = portOf(target);
  }

  /** Closes the listener and every piped connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) =>
      this.server.close(() => resolve()),
    );
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private pipe(incoming: Socket): void {
    const upstream = connect(this.target, '127.0.0.1');
    this.open += 1;
    this.sockets.add(incoming).add(upstream);
    const pair: [Socket, Socket] = [incoming, upstream];
    this.pairs.add(pair);
    let closed = false;
    // Either side ending or failing ends both, as a dropped TCP connection would (a refused
    // upstream is a client's connection refused).
    const end = () => {
      incoming.destroy();
      upstream.destroy();
      this.sockets.delete(incoming);
      this.sockets.delete(upstream);
      this.pairs.delete(pair);
      if (!closed) {
        closed = true;
        this.open -= 1;
      }
    };
    for (const socket of [incoming, upstream]) {
      socket.setNoDelay(true);
      socket.once('close', end);
      socket.on('error', end);
    }
    incoming.pipe(upstream);
    upstream.pipe(incoming);
  }
}

/**
 * Plays a managed service's failover of `primary` to its `replica` behind `endpoint`, in the
 * order the providers do it (e.g. ElastiCache Multi-AZ, Memorystore, Azure Cache):
 * 1. the replica is promoted (after catching up, unless `waitForSync: false`, as when the
 *    primary died: then what it had not received is lost);
 * 2. the old primary is made a replica of the new one (a killed one comes back as such):
 *    clients still connected to it read there but get READONLY on writes (the well-known
 *    symptom of a client holding on to the old address);
 * 3. only then does the endpoint (the DNS name) move, so new connections reach the new
 *    primary.
 * Returns the servers in their new roles.
 */
export async function managedFailover(
  endpoint: RedisEndpoint,
  {
    primary,
    replica,
    waitForSync = true,
  }: { primary: PrivateRedis; replica: PrivateRedis; waitForSync?: boolean },
): Promise<{ primary: PrivateRedis; replica: PrivateRedis }> {
  if (waitForSync) await replica.waitForSync();
  await replica.promote();
  await primary.replicate(replica);
  endpoint.switchTo(replica);
  return { primary: replica, replica: primary };
}

/**
 * A coordinated failover with Redis's own FAILOVER command (6.2+), as a managed service's
 * planned failover is: the primary pauses its writers until `replica` has everything,
 * then the two swap roles; clients still on the old primary get READONLY. Then the
 * endpoint moves. Returns the servers in their new roles.
 */
export async function coordinatedFailover(
  endpoint: RedisEndpoint,
  { primary, replica }: { primary: PrivateRedis; replica: PrivateRedis },
): Promise<{ primary: PrivateRedis; replica: PrivateRedis }> {
  await replica.waitForSync();
  await primary.call('FAILOVER', 'TO', replica.host, String(replica.port));
  await waitFor(
    async () =>
      (await replica.role()).role === 'master' &&
      (await primary.role()).role === 'replica',
    { what: `port ${replica.port} to be the primary after FAILOVER` },
  );
  // The handles' bookkeeping (a restart keeps the new roles); both are no-ops on the servers.
  await replica.promote();
  await primary.replicate(replica);
  endpoint.switchTo(replica);
  return { primary: replica, replica: primary };
}
