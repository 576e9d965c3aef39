import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { acceptsConnections, freePort } from './ports.js';
import { callOnce, parseInfo } from './redis-call.js';
import { waitFor } from './wait-for.js';

export interface PrivateRedisOptions {
  /** Turn on the append-only file, so data survives stop()/start(). */
  appendonly?: boolean;
  /** More redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
  /**
   * Require authentication. With a username the server has that ACL user (all keys,
   * channels and commands) and the default user is off; without, `requirepass` sets the
   * default user's password. `url`, `client()` and the start-up probe carry the credentials.
   */
  auth?: { username?: string; password: string };
  /** Serve TLS only (the port speaks TLS), with these PEM files; `url` is then rediss://. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /**
   * Start as a replica of this server (or port, on loopback). A replica authenticates to its
   * primary with its own `auth` and `tls`, so give both the same.
   */
  replicaOf?: PrivateRedis | number;
  /** Listen on this port instead of a free one the OS picks (a cluster needs port+10000 too). */
  port?: number;
}

/** What `ROLE` says, with Redis' 'slave' called 'replica'. */
export type RedisRole =
  | {
      role: 'master';
      offset: number;
      replicas: { host: string; port: number; offset: number }[];
    }
  | {
      role: 'replica';
      primary: { host: string; port: number };
      /** connect, connecting, sync or connected (in sync and streaming). */
      state: string;
      offset: number;
    };

/**
 * A redis-server of the test's own, on a free port, in a fresh directory. Tests never touch
 * a Redis they did not start, and can stop, kill and restart this one to test faults.
 */
export class PrivateRedis {
  private process?: ChildProcess;
  private readonly clients = new Set<Redis>();
  readonly host = '127.0.0.1';
  readonly dir = mkdtempSync(join(tmpdir(), 'podium-redis-'));
  /**
   * The primary this server replicates when (re)started: replicaOf, then what promote() and
   * replicate() last set. Sentinel and Redis Cluster change roles behind this handle's back;
   * after a restart they reconfigure the node again, as they would a real one.
   */
  private primaryPort?: number;

  private constructor(
    readonly port: number,
    private readonly options: PrivateRedisOptions,
  ) {
    this.primaryPort = portOf(options.replicaOf);
  }

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(options.port ?? (await freePort()), options);
    await redis.start();
    return redis;
  }

  /** Whether the redis-server process runs (it is neither stopped nor killed). */
  get running(): boolean {
    return this.process !== undefined;
  }

  get url(): string {
    const { auth, tls } = this.options;
    const credentials = auth
      ? `${encodeURIComponent(auth.username ?? '')}:${encodeURIComponent(auth.password)}@`
      : '';
    return `${tls ? 'rediss' : 'redis'}://${credentials}127.0.0.1:${this.port}`;
  }

  /** ioredis options to reach this server (credentials and TLS included). */
  get connectionOptions(): RedisOptions {
    const { auth, tls } = this.options;
    return {
      host: '127.0.0.1',
      port: this.port,
      ...(auth && { username: auth.username, password: auth.password }),
      ...(tls && { tls: { ca: readFileSync(tls.caFile) } }),
    };
  }

  /** A client for the test's own reads and writes; closed by stop(). */
  client(): Redis {
    const client = new Redis({
      ...this.connectionOptions,
      maxRetriesPerRequest: null,
      retryStrategy: () => 50,
      // Closed while it reconnects to a killed server, ioredis would keep a 2 s timer for
      // the dead socket, and hold up jest's worker.
      disconnectTimeout: 100,
    });
    client.on('error', () => undefined); // expected while the server is being restarted
    this.clients.add(client);
    return client;
  }

  async start(): Promise<void> {
    if (this.process) return;
    const { auth, tls } = this.options;
    const args = [
      ...(tls
        ? [
            '--port',
            '0',
            '--tls-port',
            String(this.port),
            '--tls-cert-file',
            tls.certFile,
            '--tls-key-file',
            tls.keyFile,
            '--tls-ca-cert-file',
            tls.caFile,
            '--tls-auth-clients',
            'no',
          ]
        : ['--port', String(this.port)]),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.appendonly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      // A primary sends a replica its full sync at once instead of waiting 5 s for others.
      '--repl-diskless-sync-delay',
      '0',
      ...(auth?.username
        ? [
            '--user',
            'default',
            'off',
            '--user',
            auth.username,
            'on',
            `>${auth.password}`,
            '~*',
            '&*',
            '+@all',
          ]
        : []),
      ...(auth && !auth.username ? ['--requirepass', auth.password] : []),
      ...(this.primaryPort !== undefined
        ? [
            '--replicaof',
            '127.0.0.1',
            String(this.primaryPort),
            ...(auth?.username ? ['--masteruser', auth.username] : []),
            ...(auth ? ['--masterauth', auth.password] : []),
            ...(tls ? ['--tls-replication', 'yes'] : []),
          ]
        : []),
      ...(this.options.args ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(
          new Error(
            `cannot start redis-server (is it on the PATH?): ${err.message}`,
          ),
        ),
      );
    });
    await waitFor(() => acceptsConnections(this.port), {
      what: `redis-server on port ${this.port} to listen`,
      timeoutMs: 10_000,
    });
    // ioredis' ready check waits while Redis loads its append-only file.
    const probe = new Redis({
      ...this.connectionOptions,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    await probe.ping();
    await probe.quit();
  }

  /**
   * Sends one command on a connection of its own that fails at once if the server is down,
   * so that polls and topologies can ask a server that may have been killed.
   */
  async call(command: string, ...args: (string | number)[]): Promise<unknown> {
    return callOnce(this.connectionOptions, command, ...args);
  }

  /** One section of INFO (e.g. 'replication'), as field → value. */
  async info(section: string): Promise<Record<string, string>> {
    return parseInfo((await this.call('INFO', section)) as string);
  }

  async role(): Promise<RedisRole> {
    const reply = (await this.call('ROLE')) as unknown[];
    if (reply[0] === 'master') {
      const replicas = reply[2] as string[][];
      return {
        role: 'master',
        offset: Number(reply[1]),
        replicas: replicas.map(([host, port, offset]) => ({
          host,
          port: Number(port),
          offset: Number(offset),
        })),
      };
    }
    if (reply[0] === 'slave') {
      return {
        role: 'replica',
        primary: { host: String(reply[1]), port: Number(reply[2]) },
        state: String(reply[3]),
        offset: Number(reply[4]),
      };
    }
    throw new Error(`unexpected ROLE reply: ${JSON.stringify(reply)}`);
  }

  /**
   * Makes this server a primary (REPLICAOF NO ONE); it keeps its data. A stopped server
   * starts as a primary next time.
   */
  async promote(): Promise<void> {
    if (this.running) await this.call('REPLICAOF', 'NO', 'ONE');
    this.primaryPort = undefined;
  }

  /**
   * Makes this server a replica of `primary` (REPLICAOF): it drops its data and syncs. A
   * stopped server starts as that replica next time (as a dead node comes back in its new
   * role once a managed service has failed over).
   */
  async replicate(primary: PrivateRedis | number): Promise<void> {
    const port = portOf(primary)!;
    if (this.running) await this.call('REPLICAOF', '127.0.0.1', port);
    this.primaryPort = port;
  }

  /**
   * Waits until this replica's link to its primary is up and it has applied everything the
   * primary had written when the wait began (its offset reached the primary's).
   */
  async waitForSync({ timeoutMs = 10_000 } = {}): Promise<void> {
    const what = `replica on port ${this.port} to be in sync`;
    const primaryPort = await waitFor(
      async () => {
        const info = await this.info('replication');
        return info.role === 'slave' && info.master_link_status === 'up'
          ? Number(info.master_port)
          : undefined;
      },
      { what: `${what} (link up)`, timeoutMs },
    );
    // The replica sees its link up before the primary streams to it: after a diskless
    // sync, the primary puts it online only at its first acknowledgement.
    const primary = { ...this.connectionOptions, port: primaryPort };
    const primaryInfo = await waitFor(
      async () => {
        const info = parseInfo(
          (await callOnce(primary, 'INFO', 'replication')) as string,
        );
        const online = Object.values(info).some(
          (value) =>
            value.includes(`port=${this.port},`) &&
            value.includes('state=online'),
        );
        return online ? info : undefined;
      },
      { what: `${what} (online on port ${primaryPort})`, timeoutMs },
    );
    const target = Number(primaryInfo.master_repl_offset);
    await waitFor(
      async () => {
        const info = await this.info('replication');
        return (
          info.master_link_status === 'up' &&
          Number(info.slave_repl_offset) >= target
        );
      },
      { what: `${what} (offset ${target})`, timeoutMs },
    );
  }

  /** Stops the server as an operator would (SIGTERM: the AOF, if on, is flushed). */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Kills the server without warning. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server, closes the test's clients and removes the directory. */
  async destroy(): Promise<void> {
    const open = [...this.clients].filter((client) => client.status !== 'end');
    await Promise.all(
      open.map((client) => client.quit().catch(() => client.disconnect())),
    );
    this.clients.clear();
    await this.signal('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

function portOf(server: PrivateRedis | number | undefined) {
  return typeof server === 'number' ? server : server?.port;
}
