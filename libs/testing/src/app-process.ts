import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor } from './wait-for.js';

/**
 * A compiled app (`npm run build:apps`) as a real OS process, so a test can kill it with
 * SIGKILL or stop it with SIGTERM. Its stdout and stderr lines are kept in `output`.
 */
export class AppProcess {
  readonly output: string[] = [];
  private readonly exit: Promise<number | null>;

  protected constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) =>
        this.output.push(line),
      );
    }
    this.exit = new Promise((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
  }

  protected static spawnChild(
    main: string,
    env: Record<string, string>,
  ): ChildProcess {
    return spawn(process.execPath, [main], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Waits for the line that says the app is up, and returns its match (or throws with the output when it exits first). */
  protected async ready(line: RegExp): Promise<RegExpExecArray> {
    const found = await waitFor(
      () => this.output.find((l) => line.test(l)) ?? this.exited,
      {
        what: `the ${this.name} process to start`,
        timeoutMs: 20_000,
      },
    );
    if (this.exited)
      throw new Error(
        `${this.name} process exited at start:\n${this.output.join('\n')}`,
      );
    return line.exec(found as string)!;
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
    return this.exit;
  }
}

/** What the listeners app (apps/listeners/src/listeners.bootstrap.ts) logs once it is subscribed and serves HTTP. */
const LISTENERS_READY = /Listeners process ready: .*on port (\d+)/;

/** The compiled listeners app. HEALTH_PORT defaults to 0 (a free port, in `healthUrl`). */
export class ListenersProcess extends AppProcess {
  /** http://127.0.0.1:<HEALTH_PORT> once started. */
  healthUrl = '';

  static async start(
    main: string,
    env: Record<string, string>,
  ): Promise<ListenersProcess> {
    const listeners = new ListenersProcess(
      AppProcess.spawnChild(main, { HEALTH_PORT: '0', ...env }),
      'listeners',
    );
    listeners.healthUrl = `http://127.0.0.1:${(await listeners.ready(LISTENERS_READY))[1]}`;
    return listeners;
  }
}

/** What the box office (apps/box-office/src/box-office.bootstrap.ts) logs once it listens. */
const BOX_OFFICE_READY = /Listening on http:\/\/localhost:(\d+)/;

/** The compiled box office. PORT defaults to 0 (a free port, in `url`). */
export class BoxOfficeProcess extends AppProcess {
  /** http://127.0.0.1:<PORT> once started. */
  url = '';

  static async start(
    main: string,
    env: Record<string, string>,
  ): Promise<BoxOfficeProcess> {
    const boxOffice = new BoxOfficeProcess(
      AppProcess.spawnChild(main, { PORT: '0', ...env }),
      'box office',
    );
    boxOffice.url = `http://127.0.0.1:${(await boxOffice.ready(BOX_OFFICE_READY))[1]}`;
    return boxOffice;
  }
}
