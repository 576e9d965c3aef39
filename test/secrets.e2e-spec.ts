import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { announceOrder } from '@podium/orders';
import {
  ListenersProcess,
  OPERATOR_ENV,
  operatorAuth,
  PrivateRedis,
  waitFor,
  waitForApplied,
} from '@podium/testing';

const dist = (app: string) =>
  fileURLToPath(new URL(`../dist/apps/${app}/src/main.js`, import.meta.url));

// Every secret of these tests holds "Sekr1t", so one search finds any of them, raw or percent-encoded.
const SECRET = /Sekr1t/i;
const REDIS_PASSWORD = 'pw-Sekr1t@Olympics#2026';
const FORMATS = ['pretty', 'json'] as const;

/** The compiled box office as a process, its output kept; `url` once it listens. */
class BoxOfficeProcess {
  readonly output: string[] = [];
  url = '';
  private readonly child: ChildProcess;
  private readonly exit: Promise<number | null>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [dist('box-office')], {
      env: {
        PATH: process.env.PATH,
        NO_COLOR: '1',
        PORT: '0',
        ...OPERATOR_ENV,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!])
      createInterface({ input: stream }).on('line', (line) =>
        this.output.push(line),
      );
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code) => resolve(code)),
    );
  }

  async listening(): Promise<this> {
    const line = await waitFor(
      () =>
        this.output.find((l) => /Listening on http:\/\/localhost:\d+/.test(l)),
      { what: 'the box office to listen', timeoutMs: 20_000 },
    );
    this.url = `http://127.0.0.1:${/localhost:(\d+)/.exec(line)![1]}`;
    return this;
  }

  async terminate(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exit;
  }
}

/** Status, headers and body of a request, as one text to search. */
async function fetchAll(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, init);
  return {
    status: res.status,
    text: `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${await res.text()}`,
  };
}

describe('no secret in any output: start-up errors, failed connections, /health, /metrics, logs', () => {
  describe.each(['box-office', 'listeners'])('%s', (app) => {
    it.each(FORMATS)(
      'a malformed REDIS_URL stops start-up naming the URL without its password (LOG_FORMAT=%s)',
      (format) => {
        const result = spawnSync(process.execPath, [dist(app)], {
          env: {
            PATH: process.env.PATH,
            NO_COLOR: '1',
            LOG_FORMAT: format,
            HEALTH_PORT: '0',
            PORT: '0',
            REDIS_URL: 'redis://:Sekr1t-pass@127.0.0.1:99999',
          },
          encoding: 'utf8',
          timeout: 20_000,
        });
        const output = result.stdout + result.stderr;
        expect(result.status).toBe(1);
        expect(output).toMatch(
          /Cannot start: (Invalid configuration: )?REDIS_URL is not a valid URL: \\?"redis:\/\/:\*\*\*@127\.0\.0\.1:99999\\?"/,
        );
        expect(output).not.toMatch(SECRET);
      },
    );
  });

  describe('with a Redis that needs a password', () => {
    let server: PrivateRedis;
    const running: { terminate(): Promise<unknown> }[] = [];

    beforeAll(async () => {
      server = await PrivateRedis.start({
        auth: { username: 'podium', password: REDIS_PASSWORD },
      });
    });

    afterAll(async () => {
      for (const process of running) await process.terminate();
      await server?.destroy();
    });

    it('a wrong password: the refused connections are logged without it, and /health/ready says so without it', async () => {
      const wrongUrl = server.url.replace(
        encodeURIComponent(REDIS_PASSWORD),
        'Wrong-Sekr1t',
      );
      const boxOffice = new BoxOfficeProcess({
        REDIS_URL: wrongUrl,
        LOG_FORMAT: 'pretty',
      });
      running.push(boxOffice);
      await boxOffice.listening();
      const listeners = spawn(process.execPath, [dist('listeners')], {
        env: {
          PATH: process.env.PATH,
          NO_COLOR: '1',
          HEALTH_PORT: '0',
          LOG_FORMAT: 'json',
          REDIS_URL: wrongUrl,
        },
      });
      const listenersOutput: string[] = [];
      for (const stream of [listeners.stdout, listeners.stderr])
        createInterface({ input: stream }).on('line', (line) =>
          listenersOutput.push(line),
        );
      running.push({
        terminate: () =>
          Promise.resolve(
            listeners.exitCode === null && listeners.kill('SIGKILL'),
          ),
      });

      const ready = await waitFor(
        async () => {
          const answer = await fetchAll(`${boxOffice.url}/health/ready`);
          return answer.status === 503 ? answer : undefined;
        },
        { what: '/health/ready to answer 503' },
      );
      await waitFor(
        () =>
          boxOffice.output.some((l) => /WRONGPASS/.test(l)) &&
          listenersOutput.some((l) => /WRONGPASS/.test(l)),
        { what: 'the refused connections in both logs' },
      );
      const metrics = await fetchAll(`${boxOffice.url}/metrics`);
      expect(metrics.text).toMatch(
        /podium_redis_connected\{connection="command"\} 0/,
      );
      for (const text of [
        ready.text,
        metrics.text,
        ...boxOffice.output,
        ...listenersOutput,
      ])
        expect(text).not.toMatch(SECRET);
    });

    it('the right password: requests, probes, metrics, docs and logs of both apps in both formats never show it, during an outage neither', async () => {
      const apps = await Promise.all(
        FORMATS.map(async (format) => ({
          boxOffice: await new BoxOfficeProcess({
            REDIS_URL: server.url,
            LOG_FORMAT: format,
            LOG_LEVEL: 'debug',
          }).listening(),
          listeners: await ListenersProcess.start(dist('listeners'), {
            REDIS_URL: server.url,
            LOG_FORMAT: format,
            LOG_LEVEL: 'debug',
            DELIVERY_CUSTOMER_INVOICES: 'durable',
          }),
        })),
      );
      for (const { boxOffice, listeners } of apps)
        running.push(boxOffice, listeners);
      const answers: string[] = [];
      const ask = async (url: string, init?: RequestInit) => {
        const answer = await fetchAll(url, init);
        answers.push(answer.text);
        return answer;
      };

      const { boxOffice } = apps[0];
      const json = { 'content-type': 'application/json' };
      expect(
        (
          await ask(`${boxOffice.url}/events`, {
            method: 'POST',
            headers: { ...json, authorization: operatorAuth },
            body: JSON.stringify({ name: 'Secret Sprint', price: 5 }),
          })
        ).status,
      ).toBe(201);
      const bought = await fetch(`${boxOffice.url}/purchases`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ event: 'Secret Sprint', qty: 1, who: 'ann' }),
      });
      const { orderId } = (await bought.json()) as { orderId: string };
      await waitForApplied(server.client(), orderId, [
        'sales-summary',
        'customer-invoices',
      ]);
      await announceOrder(server.client(), {
        event: 'Secret Sprint',
        who: 'bob',
      });
      for (const { boxOffice: office, listeners } of apps) {
        for (const path of [
          '/health/ready',
          '/health/live',
          '/metrics',
          '/docs-json',
          '/listeners',
          '/events',
        ])
          await ask(`${office.url}${path}`);
        await ask(`${office.url}/queues/api/queues`, {
          headers: { authorization: operatorAuth },
        });
        await ask(`${office.url}/listeners/customer-invoices/failed`, {
          headers: { authorization: operatorAuth },
        });
        for (const path of ['/health/ready', '/metrics', '/docs-json'])
          await ask(`${listeners.healthUrl}${path}`);
      }

      // An outage: every connection fails and reconnects; the probes answer 503.
      await server.stop();
      for (const { boxOffice: office, listeners } of apps) {
        await waitFor(
          async () => (await ask(`${office.url}/health/ready`)).status === 503,
          { what: 'the box office to be unready' },
        );
        await waitFor(
          async () =>
            (await ask(`${listeners.healthUrl}/health/ready`)).status === 503,
          { what: 'the listeners to be unready' },
        );
        await ask(`${office.url}/metrics`);
        await ask(`${listeners.healthUrl}/metrics`);
      }
      await waitFor(
        () =>
          apps.every(({ boxOffice: office, listeners }) =>
            [office.output, listeners.output].every((out) =>
              out.some((l) => /ECONNREFUSED/.test(l)),
            ),
          ),
        {
          what: 'the failed reconnects in every log',
        },
      );
      await server.start();

      expect(
        answers.some((text) => text.includes('podium_redis_connected')),
      ).toBe(true);
      const everything = [
        ...answers,
        ...apps.flatMap(({ boxOffice: office, listeners }) => [
          ...office.output,
          ...listeners.output,
        ]),
      ];
      expect(everything.filter((text) => SECRET.test(text))).toEqual([]);
    });
  });
});
