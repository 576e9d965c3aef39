import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
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
}

/**
 * A redis-server of the test's own, on a free port, in a fresh directory. Tests never touch
 * a Redis they did not start, and can stop, kill and restart this one to test faults.
 */
export class PrivateRedis {
  private process?: ChildProcess;
  private readonly clients = new Set<Redis>();
  readonly dir = mkdtempSync(join(tmpdir(), 'podium-redis-'));

  private constructor(
    readonly port: number,
    private readonly options: PrivateRedisOptions,
  ) {}

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options);
    await redis.start();
    return redis;
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
