import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor } from './wait-for.js';

/** What the listeners app (apps/listeners/src/listeners.bootstrap.ts) logs once it is subscribed and serves HTTP. */
const READY = /Listeners process ready: .*on port (\d+)/;

/**
 * The compiled listeners app (`npm run build`) as a real OS process, so a test can kill it
 * with SIGKILL or stop it with SIGTERM. HEALTH_PORT defaults to 0 (a free port, in `healthUrl`).
 */
export class ListenersProcess {
  readonly output: string[] = [];
  /** http://127.0.0.1:<HEALTH_PORT> once started. */
  healthUrl = '';
  private exit?: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.output.push(line));
    }
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(main: string, env: Record<string, string>): Promise<ListenersProcess> {
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, NO_COLOR: '1', HEALTH_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const listeners = new ListenersProcess(child);
    const ready = await waitFor(() => listeners.output.find((l) => READY.test(l)) ?? listeners.exited, {
      what: 'the listeners process to start',
      timeoutMs: 20_000,
    });
    if (listeners.exited) throw new Error(`listeners process exited at start:\n${listeners.output.join('\n')}`);
    listeners.healthUrl = `http://127.0.0.1:${READY.exec(ready as string)![1]}`;
    return listeners;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** kill -9: no shutdown hooks run. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exit;
  }

  /** SIGTERM, as an orchestrator stops a process; resolves with the exit code. */
  async terminate(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exit!;
  }
}
