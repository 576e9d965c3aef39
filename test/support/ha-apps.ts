import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BoxOfficeProcess,
  ListenersProcess,
  OPERATOR_ENV,
  operatorAuth,
  waitFor,
  type AppProcess,
} from '@podium/testing';
import { sample, sampleSum } from './metrics.js';
import { ReadinessWatch } from './readiness-watch.js';

/*
 * The compiled apps as a high-availability test runs them: durable listeners (the seed's
 * five) except the histogram, which stays ephemeral so that what a switch costs it shows
 * as a number; purchases confirmed by one replica; short outbox grace and job locks, so
 * that what a failover leaves behind is finished within a few seconds.
 */

const BOX_OFFICE_MAIN = fileURLToPath(
  new URL('../../dist/apps/box-office/src/main.js', import.meta.url),
);
const LISTENERS_MAIN = fileURLToPath(
  new URL('../../dist/apps/listeners/src/main.js', import.meta.url),
);

/** The ephemeral listener of these tests. */
export const EPHEMERAL_LISTENER = 'sales-histogram';

export const haEnv = (redis: Record<string, string>) => ({
  ...redis,
  REDIS_WAIT_REPLICAS: '1',
  PURCHASE_RATE_LIMIT: '0',
  OUTBOX_GRACE_MS: '1000',
  QUEUE_LOCK_MS: '2000',
  QUEUE_STALLED_CHECK_MS: '1000',
  ...OPERATOR_ENV,
});

export interface HaApps {
  listeners: ListenersProcess;
  boxOffice: BoxOfficeProcess;
  /** Starts the listeners process again, as before (after its kill -9, say); `listeners` is the new one. */
  restartListeners(): Promise<void>;
  kill(): Promise<void>;
}

/** Variables over haEnv's: for both apps, or one of them (its own REDIS_URL, say). */
export interface HaOverrides {
  both?: Record<string, string>;
  listeners?: Record<string, string>;
  boxOffice?: Record<string, string>;
}

/** The listeners process first (it registers the durable subscription), then the box office, and the events. */
export async function startHaApps(
  env: Record<string, string>,
  events: string[],
  overrides: HaOverrides = {},
): Promise<HaApps> {
  const startListeners = () =>
    ListenersProcess.start(LISTENERS_MAIN, {
      ...env,
      DELIVERY: 'durable',
      DELIVERY_SALES_HISTOGRAM: 'ephemeral',
      ...overrides.both,
      ...overrides.listeners,
    });
  const listeners = await startListeners();
  const boxOffice = await BoxOfficeProcess.start(BOX_OFFICE_MAIN, {
    ...env,
    ...overrides.both,
    ...overrides.boxOffice,
  }).catch(async (err: Error) => {
    await listeners.kill();
    throw err;
  });
  const apps: HaApps = {
    listeners,
    boxOffice,
    restartListeners: async () => {
      if (!apps.listeners.exited) await apps.listeners.kill();
      apps.listeners = await startListeners();
    },
    kill: async () => {
      for (const app of [boxOffice, apps.listeners])
        if (!app.exited) await app.kill();
    },
  };
  for (const name of events) {
    const res = await fetch(`${boxOffice.url}/events`, {
      method: 'POST',
      headers: {
        authorization: operatorAuth,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name, price: 20 }),
    });
    if (res.status !== 201) {
      await apps.kill();
      throw new Error(`creating ${name} answered ${res.status}`);
    }
  }
  return apps;
}

/** Polls both apps' /health/ready, named 'box office' and 'listeners'. */
export const watchReadiness = (apps: HaApps) =>
  new ReadinessWatch({
    'box office': apps.boxOffice.url,
    listeners: apps.listeners.healthUrl,
  });

/** The box office's last error lines, for a failing test's message. */
export const boxOfficeErrors = (apps: HaApps) => () =>
  `box office errors: ${apps.boxOffice.output
    .filter((l) => /ERROR|Error:|error/.test(l))
    .slice(-8)
    .join('\n')}`;

/** The lines of an app's output that match, so far. */
export const linesOf = (app: AppProcess, line: RegExp) =>
  app.output.filter((l) => line.test(l));

/** Waits for a line to appear in an app's output and returns when it did (to 20 ms). */
export async function whenLogged(
  app: AppProcess,
  line: RegExp,
  timeoutMs = 15_000,
): Promise<number> {
  await waitFor(() => linesOf(app, line).length > 0, {
    what: `a line matching ${line}`,
    timeoutMs,
  });
  return Date.now();
}

/** One metric of an app (a box office's url, a listeners process's healthUrl). */
export async function metric(
  url: string,
  name: string,
  labels?: Record<string, string>,
): Promise<number | undefined> {
  return sample(await (await fetch(`${url}/metrics`)).text(), name, labels);
}

/** One metric of an app added up over its labels. */
export async function metricTotal(url: string, name: string): Promise<number> {
  return sampleSum(await (await fetch(`${url}/metrics`)).text(), name);
}

/** What GET /listeners says of one listener once nothing is in flight: its counters and `lost`. */
export async function listenerLoss(
  boxOffice: BoxOfficeProcess,
  name: string,
): Promise<{ announced: number; applied: number; lost: number }> {
  type Status = { name: string; counts: Record<string, number>; lost: number };
  let last: Status | undefined;
  // An order in flight counts as lost for a moment: read until two reads agree.
  const settled = await waitFor(
    async () => {
      const res = await fetch(`${boxOffice.url}/listeners`);
      if (res.status !== 200) return undefined; // a reconnect under way: 503
      const now = ((await res.json()) as Status[]).find((l) => l.name === name);
      const same = last && JSON.stringify(last) === JSON.stringify(now);
      last = now;
      return same ? now : (await sleep(100), undefined);
    },
    { what: `GET /listeners to settle for ${name}`, timeoutMs: 10_000 },
  );
  return {
    announced: settled.counts.announced,
    applied: settled.counts.applied,
    lost: settled.lost,
  };
}

/**
 * Both apps log a failover in one line that matches `line`, once each, and count it: their
 * podium_redis_failovers_total is `count`. Resolves with when each logged it.
 */
export async function expectFailoverSaidOnce(
  apps: HaApps,
  line: RegExp,
  count: number,
): Promise<number[]> {
  const both = [apps.boxOffice, apps.listeners];
  const loggedAt = await Promise.all(both.map((app) => whenLogged(app, line)));
  for (const app of both) expect(linesOf(app, line)).toHaveLength(1);
  for (const url of [apps.boxOffice.url, apps.listeners.healthUrl])
    expect(await metric(url, 'podium_redis_failovers_total')).toBe(count);
  return loggedAt;
}
