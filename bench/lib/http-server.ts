import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readStatus } from './child.js';
import { PODIUM_NODE_FLAGS } from './model.js';

/** Which HTTP server answers the purchases of the HTTP scenario. */
export type HttpServerKind = 'box-office' | 'bare';

const MAIN: Record<HttpServerKind, string> = {
  // The compiled box office as it ships (npm run bench builds it first).
  'box-office': '../../apps/box-office/src/main.js',
  bare: '../baselines/bare-purchase-app.js',
};

/** What both print once they listen. */
const READY = /Listening on http:\/\/localhost:(\d+)/;

/** The operator the bench creates the seed's events as (POST /events needs one). */
export const BENCH_OPERATOR = {
  user: 'bench',
  password: 'a bench operator password',
};

/**
 * The HTTP scenario's server (podium's box office or the bare endpoint) as its own OS
 * process on a free port, with the Node flags podium's apps run with, its output in
 * <logBase>.out and .err; its CPU time and memory are read from /proc.
 */
export class HttpServerProcess {
  url = '';
  /** Peak RSS (VmHWM) seen, kB. */
  hwmKb = 0;
  readyMs = Number.NaN;
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly kind: HttpServerKind,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(
    kind: HttpServerKind,
    env: Record<string, string>,
    logBase: string,
  ): Promise<HttpServerProcess> {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...PODIUM_NODE_FLAGS,
        // As for the listeners processes: BENCH_CHILD_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles it.
        ...(process.env.BENCH_CHILD_NODE_OPTIONS ?? '')
          .split(' ')
          .filter(Boolean),
        fileURLToPath(new URL(MAIN[kind], import.meta.url)),
      ],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          NO_COLOR: '1',
          PORT: '0',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const server = new HttpServerProcess(child, kind);
    const out = createWriteStream(`${logBase}.out`, { flags: 'a' });
    const err = createWriteStream(`${logBase}.err`, { flags: 'a' });
    child.stdout.pipe(out);
    child.stderr.pipe(err);
    // Its output is read (besides going to the files) only until the line that says it listens.
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${kind}: not listening after 30 s`)),
        30_000,
      );
      const onData = (chunk: Buffer) => {
        seen = (seen + chunk.toString('utf8')).slice(-4000);
        const m = READY.exec(seen);
        if (!m) return;
        server.url = `http://127.0.0.1:${m[1]}`;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${kind}: exited with ${code} while starting: ${seen.trim().split('\n').slice(-5).join(' | ')}`,
          ),
        );
      });
    });
    server.readyMs = performance.now() - started;
    server.sample();
    return server;
  }

  /** Notes the peak RSS so far. */
  sample(): void {
    const status = readStatus(this.pid);
    if (status && Number.isFinite(status.hwmKb))
      this.hwmKb = Math.max(this.hwmKb, status.hwmKb);
  }

  /** SIGTERM (the box office finishes what it serves and exits); SIGKILL after the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.sample();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
