import { setTimeout as sleep } from 'node:timers/promises';

/** One answer of GET /health/ready. */
export interface ReadinessSample {
  at: number;
  status: number | 'no answer';
  /** The failing checks, when not ready. */
  down?: string;
}

/**
 * Polls /health/ready of apps every `intervalMs` (each poll with a 1.5 s deadline) and keeps
 * what each answered when, to tell when an app went unready and ready again.
 */
export class ReadinessWatch {
  private readonly samples = new Map<string, ReadinessSample[]>();
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    apps: Record<string, string>,
    private readonly intervalMs = 100,
  ) {
    this.loops = Object.entries(apps).map(([app, url]) => {
      this.samples.set(app, []);
      return this.poll(app, url);
    });
  }

  /** When `app` first answered `status` (503 or 200) at or after `at`. */
  first(app: string, status: number, at: number): number | undefined {
    return this.samples.get(app)!.find((s) => s.at >= at && s.status === status)
      ?.at;
  }

  /** When `app` was unready after `at`, and ready again: [first non-200, next 200], relative to `at`. */
  outage(
    app: string,
    at: number,
  ): { unreadyAfterMs?: number; readyAfterMs?: number } {
    const list = this.samples.get(app)!.filter((s) => s.at >= at);
    const down = list.find((s) => s.status !== 200);
    if (!down) return {};
    const up = list.find((s) => s.at > down.at && s.status === 200);
    return {
      unreadyAfterMs: down.at - at,
      readyAfterMs: up && up.at - at,
    };
  }

  /** What `app` answered from `at` on, for a failing test's message: status and failing checks, when they changed. */
  history(app: string, at: number): string {
    let last = '';
    const changes: string[] = [];
    for (const s of this.samples.get(app)!.filter((s) => s.at >= at)) {
      const now = `${s.status}${s.down ? ` ${s.down}` : ''}`;
      if (now !== last) changes.push(`+${s.at - at} ms: ${now}`);
      last = now;
    }
    return changes.join('; ');
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async poll(app: string, url: string): Promise<void> {
    while (this.running) {
      const at = Date.now();
      let status: ReadinessSample['status'];
      let down: string | undefined;
      try {
        const res = await fetch(`${url}/health/ready`, {
          signal: AbortSignal.timeout(1500),
        });
        const body = (await res.json()) as { error?: object };
        status = res.status;
        if (status !== 200) down = JSON.stringify(body.error);
      } catch {
        status = 'no answer';
      }
      this.samples.get(app)!.push({ at, status, down });
      await sleep(Math.max(0, this.intervalMs - (Date.now() - at)));
    }
  }
}
