import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections, freePort } from '../ports.js';
import { callOnce } from '../redis-call.js';
import { waitFor } from '../wait-for.js';

export interface SentinelOptions {
  /** The name clients ask for (REDIS_SENTINEL_NAME, ioredis' `name`). */
  name: string;
  /** The primary's port on loopback. */
  primaryPort: number;
  /** How many Sentinels must agree that the primary is down. */
  quorum: number;
  /**
   * Without an answer for this long, a server is down (default 2000). Not 1000: Sentinel
   * reconnects a dropped link at most once a second, and a promotion drops the other
   * Sentinels' links to the new primary (CLIENT KILL), so at 1000 they now and then find
   * it down a second after the failover and fail it over again (2 times in 12 measured).
   */
  downAfterMs?: number;
  /**
   * A failover that stalls (no leader elected, no promotion seen) is given up after this
   * long, and the next one of the same primary waits twice this since the last (default
   * 5000).
   */
  failoverTimeoutMs?: number;
  /** Its port (default: a free one). */
  port?: number;
  /** Its Sentinel ID, 40 hex digits (default: a random one). */
  id?: string;
  /**
   * The other Sentinels, as a Sentinel that has heard their hellos writes them to its
   * config: it then needs not wait for their first hellos (they come every 2 s).
   */
  knownSentinels?: { port: number; id: string }[];
}

/** A Sentinel ID, as Sentinel makes them: 40 random hex digits. */
export const sentinelId = () => randomBytes(20).toString('hex');

/**
 * A Sentinel of the test's own: `redis-server <sentinel.conf> --sentinel` (there is no
 * redis-sentinel binary here) on a free loopback port. Sentinel rewrites its config file
 * with what it learns (the current primary, the other Sentinels), so each has its own file
 * in its own directory, and a restarted Sentinel resumes from what it knew.
 */
export class Sentinel {
  private process?: ChildProcess;
  readonly host = '127.0.0.1';
  readonly dir = mkdtempSync(join(tmpdir(), 'podium-sentinel-'));
  readonly configFile = join(this.dir, 'sentinel.conf');

  private constructor(
    readonly port: number,
    readonly id: string,
  ) {}

  static async start(options: SentinelOptions): Promise<Sentinel> {
    const sentinel = new Sentinel(
      options.port ?? (await freePort()),
      options.id ?? sentinelId(),
    );
    sentinel.writeConfig(options);
    await sentinel.start();
    return sentinel;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** One command on a fail-fast connection of its own (e.g. 'SENTINEL', 'MASTERS'). */
  async call(command: string, ...args: (string | number)[]): Promise<unknown> {
    return callOnce({ host: this.host, port: this.port }, command, ...args);
  }

  async start(): Promise<void> {
    if (this.process) return;
    const child = spawn('redis-server', [this.configFile, '--sentinel'], {
      stdio: 'ignore',
    });
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await waitFor(() => acceptsConnections(this.port), {
      what: `Sentinel on port ${this.port} to listen`,
      timeoutMs: 10_000,
    });
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async destroy(): Promise<void> {
    await this.signal('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeConfig({
    name,
    primaryPort,
    quorum,
    downAfterMs = 2000,
    failoverTimeoutMs = 5000,
    knownSentinels = [],
  }: SentinelOptions) {
    const lines = [
      `port ${this.port}`,
      'bind 127.0.0.1',
      `dir ${this.dir}`,
      `logfile ${join(this.dir, 'sentinel.log')}`,
      // Addresses are 127.0.0.1 throughout; no name is ever looked up.
      'sentinel resolve-hostnames no',
      `sentinel myid ${this.id}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} ${quorum}`,
      // Fast timings (see SentinelOptions), so that a failover takes about 3 s (with the
      // defaults, 30 s and 3 min); the other replicas follow the new primary at once.
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${name} 2`,
      ...knownSentinels.map(
        ({ port, id }) =>
          `sentinel known-sentinel ${name} 127.0.0.1 ${port} ${id}`,
      ),
    ];
    writeFileSync(this.configFile, lines.join('\n') + '\n');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
