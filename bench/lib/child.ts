import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BENCH_ALERTS_MAX,
  listenerNames,
  PODIUM_NODE_FLAGS,
  type ChildConfig,
  type ChildMessage,
  type SamplesMessage,
  type SystemSpec,
  type Variant,
} from './model.js';

const ENTRY: Record<SystemSpec['kind'], string> = {
  podium: '../processes/podium-listeners.js',
  seed: '../baselines/seed-listeners.js',
  nest: '../baselines/nest-listeners.js',
  bullmq: '../baselines/bullmq-listeners.js',
  streams: '../baselines/streams-listeners.js',
};

export interface ProcStatus {
  rssKb: number;
  hwmKb: number;
}

/** VmRSS and VmHWM (peak RSS) of a live process, from /proc. */
export function readStatus(pid: number): ProcStatus | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(
        new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ??
          Number.NaN,
      );
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

export interface StartOptions {
  system: SystemSpec;
  variant: Variant;
  redisUrl: string;
  /** Log files are <logBase>.out and <logBase>.err. */
  logBase: string;
  onSamples: (message: SamplesMessage) => void;
  /** More podium settings for this run (QUEUE_LOCK_MS...). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/**
 * A listeners process (podium's or a baseline's) run by the bench as a real OS process, so
 * that it can be killed with SIGKILL and its memory read from /proc.
 */
export class ListenersProcess {
  readonly names: string[];
  /** Last figures the process reported (cumulative for this process). */
  pending: number[] = [];
  reconnects = 0;
  errors = 0;
  /** V8 heap used and reserved, MB, as last reported. */
  heap = { usedMb: Number.NaN, totalMb: Number.NaN };
  /** Peak RSS seen so far (VmHWM), kB. */
  hwmKb = 0;
  readyMs = Number.NaN;
  /** podium: http://127.0.0.1:<port> of its /health and /metrics, from its 'ready' message. */
  httpUrl?: string;
  /** RSS right after start-up, before any order: the process at rest, kB. */
  rssAtReadyKb = Number.NaN;
  private readonly exited: Promise<number | null>;
  private alive = true;
  private flushSeq = 0;
  private readonly flushWaiters = new Map<number, () => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly options: StartOptions,
  ) {
    this.names = listenerNames(options.variant);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.alive = false;
        for (const wake of this.flushWaiters.values()) wake();
        resolve(code);
      }),
    );
    child.on('message', (message: ChildMessage) => {
      if (message.type !== 'samples') return;
      this.pending = message.pending;
      this.reconnects = message.reconnects;
      this.errors = message.errors;
      this.heap = { usedMb: message.heapUsedMb, totalMb: message.heapTotalMb };
      options.onSamples(message);
      if (message.flush !== undefined) this.flushWaiters.get(message.flush)?.();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  static async start(options: StartOptions): Promise<ListenersProcess> {
    const { system, variant, redisUrl, logBase } = options;
    const env: Record<string, string> = {
      ALERTS_MAX: String(BENCH_ALERTS_MAX),
    };
    if (system.mode) env.DELIVERY = system.mode;
    Object.assign(env, system.overrides ?? {}, options.env ?? {});
    const config: ChildConfig = { redisUrl, variant, env };
    const out = openSync(`${logBase}.out`, 'a');
    const err = openSync(`${logBase}.err`, 'a');
    const started = performance.now();
    const child = fork(
      fileURLToPath(new URL(ENTRY[system.kind], import.meta.url)),
      [],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          NO_COLOR: '1',
          BENCH_CHILD: JSON.stringify(config),
        },
        execPath: process.execPath,
        // For profiling a run: BENCH_CHILD_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench ...
        execArgv: [
          ...(system.kind === 'podium' ? PODIUM_NODE_FLAGS : []),
          ...(process.env.BENCH_CHILD_NODE_OPTIONS ?? '')
            .split(' ')
            .filter(Boolean),
        ],
        stdio: ['ignore', out, err, 'ipc'],
        serialization: 'advanced',
      },
    );
    closeSync(out);
    closeSync(err);
    const proc = new ListenersProcess(child, options);
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${system.label}: not ready after ${timeoutMs} ms (see ${logBase}.err)`,
            ),
          ),
        timeoutMs,
      );
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') {
          if (message.httpPort !== undefined)
            proc.httpUrl = `http://127.0.0.1:${message.httpPort}`;
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${system.label}: exited with ${code} while starting: ${tail(`${logBase}.err`)}`,
          ),
        );
      });
    });
    proc.readyMs = performance.now() - started;
    proc.rssAtReadyKb = proc.sample();
    return proc;
  }

  /** Reads RSS now; returns it in kB (NaN once the process is gone). */
  sample(): number {
    if (!this.alive) return Number.NaN;
    const status = readStatus(this.pid);
    // A process that has exited but not been reaped has no VmRSS line: NaN, not kept.
    if (!status || !Number.isFinite(status.rssKb)) return Number.NaN;
    if (Number.isFinite(status.hwmKb))
      this.hwmKb = Math.max(this.hwmKb, status.hwmKb);
    return status.rssKb;
  }

  /** Resolves once every sample taken before the call has reached the bench. */
  async flush(): Promise<void> {
    if (!this.alive) return;
    const seq = ++this.flushSeq;
    const done = new Promise<void>((resolve) =>
      this.flushWaiters.set(seq, resolve),
    );
    this.child.send({ type: 'flush', seq });
    await done;
    this.flushWaiters.delete(seq);
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.sample();
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Asks the process to finish and exit; SIGKILL after the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.sample();
    await this.flush();
    this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Warnings and errors the process logged. */
  problems(): { count: number; first: string[] } {
    return logProblems(this.options.logBase);
  }
}

/** Warning and error lines in a process's <logBase>.err and .out. */
export function logProblems(logBase: string): {
  count: number;
  first: string[];
} {
  const lines = [readText(`${logBase}.err`), readText(`${logBase}.out`)]
    .join('\n')
    .split('\n')
    .filter((line) => /\b(ERROR|WARN|Error|error)\b/.test(line));
  return {
    count: lines.length,
    first: lines.slice(0, 5).map((l) => l.slice(0, 300)),
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function tail(path: string): string {
  return readText(path).trim().split('\n').slice(-5).join(' | ');
}

export const logBaseFor = (dir: string, ...parts: string[]): string =>
  join(dir, parts.join('-').replace(/[^\w.-]+/g, '_'));
