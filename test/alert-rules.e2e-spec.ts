import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { LISTENER_MODULES } from '@podium/listeners';
import {
  operatorAuth,
  PrivateRedis,
  startListenersApp,
  waitFor,
  waitForApplied,
  type RunningListenersApp,
} from '@podium/testing';
import type { PurchaseResponse } from '../apps/box-office/src/purchases/purchases.controller.js';
import {
  alertRules,
  exposition,
  metricNames,
  promtool,
  type Exposition,
} from './support/alert-rules.js';
import { startBoxOffice } from './support/box-office.js';
import { sample } from './support/metrics.js';

const RULES_DIR = fileURLToPath(new URL('../ops/prometheus/', import.meta.url));
const RULES = 'podium-alerts.yml';
const RULE_TESTS = 'podium-alerts.test.yml';
const read = (file: string) => readFileSync(`${RULES_DIR}${file}`, 'utf8');
const rules = alertRules(read(RULES));

describe('alert rules (ops/prometheus/podium-alerts.yml)', () => {
  it('promtool check rules accepts the file, and finds the alerts this test reads', async () => {
    const { code, output } = await promtool(
      ['check', 'rules', RULES],
      RULES_DIR,
    );
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(rules.every((r) => r.expr !== '')).toBe(true);
  });

  it('promtool test rules passes every case of podium-alerts.test.yml', async () => {
    const { code, output } = await promtool(
      ['test', 'rules', RULE_TESTS],
      RULES_DIR,
    );
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(output).toContain('SUCCESS');
  });

  it('every alert has a case that fires and one that must not', () => {
    const cases = new Map<string, { fires: boolean; silent: boolean }>();
    for (const [, alert, empty] of read(RULE_TESTS).matchAll(
      /alertname: (\S+)\s*\n\s*exp_alerts:\s*(\[\])?/g,
    )) {
      const seen = cases.get(alert) ?? { fires: false, silent: false };
      if (empty) seen.silent = true;
      else seen.fires = true;
      cases.set(alert, seen);
    }
    const untested = rules
      .map((r) => r.alert)
      .filter((a) => !cases.get(a)?.fires || !cases.get(a)?.silent);
    expect(untested).toEqual([]);
  });

  it("every alert's runbook_url is a section of docs/operations.md", () => {
    const docs = readFileSync(
      fileURLToPath(new URL('../docs/operations.md', import.meta.url)),
      'utf8',
    );
    const anchors = new Set(
      [...docs.matchAll(/^#+ (.+)$/gm)].map(([, heading]) =>
        heading
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const broken = rules
      .filter(
        (r) =>
          !r.runbookUrl?.startsWith('docs/operations.md#') ||
          !anchors.has(r.runbookUrl.split('#')[1]),
      )
      .map((r) => `${r.alert}: ${r.runbookUrl}`);
    expect(broken).toEqual([]);
  });

  it('reads the metric names out of an expression', () => {
    expect(
      metricNames(
        'max by (listener) (min_over_time(a_total{kind="lost"}[5m] offset 10m)) - b > 0 ' +
          'or (c unless on (x) c offset 1h) and sum without (y) (rate(d:e[1m])) > 1e3',
      ),
    ).toEqual(['a_total', 'b', 'c', 'd:e']);
  });

  describe('against the box office and the listeners', () => {
    let server: PrivateRedis;
    let redis: Redis;
    let boxOffice: INestApplication;
    let listeners: RunningListenersApp;

    beforeAll(async () => {
      server = await PrivateRedis.start();
      redis = server.client();
      // A queued and a durable group: their queues, the outbox and its relay show in /metrics.
      listeners = await startListenersApp({
        redisUrl: server.url,
        listeners: LISTENER_MODULES,
        env: {
          DELIVERY_SALES_SUMMARY: 'queued',
          DELIVERY_CUSTOMER_INVOICES: 'durable',
        },
        logger: false,
      });
      boxOffice = await startBoxOffice(server.url);
      const http = () => request(boxOffice.getHttpServer());
      await http()
        .post('/events')
        .set('Authorization', operatorAuth)
        .send({ name: 'Womens Judo', price: 20 })
        .expect(201);
      const { body } = await http()
        .post('/purchases')
        .send({ event: 'Womens Judo', qty: 2, who: 'ann' })
        .expect(201);
      await waitForApplied(redis, (body as PurchaseResponse).orderId, [
        'sales-histogram',
        'sales-summary',
        'customer-invoices',
        'event-alerts',
      ]);
    });

    afterAll(async () => {
      await listeners?.close();
      await boxOffice?.close();
      await server?.destroy();
    });

    const scrape = async (app: INestApplication): Promise<string> =>
      (await request(app.getHttpServer()).get('/metrics').expect(200)).text;

    it('every metric a rule reads is exported by one of them', async () => {
      const used = new Map<string, string[]>();
      for (const { alert, expr } of rules)
        for (const name of metricNames(expr))
          used.set(name, [...(used.get(name) ?? []), alert]);

      // A name counts when a scrape has a sample of it, or, for a counter, when it is declared:
      // a counter with labels has no sample before its first event (an order lost, a purchase
      // unreplicated, a connection replaced). A gauge must have its samples.
      const notExported = (scrapes: Exposition[]): string[] =>
        [...used]
          .filter(
            ([name]) =>
              !scrapes.some(
                (s) =>
                  s.sampled.has(name) || s.declared.get(name) === 'counter',
              ),
          )
          .map(([name, alerts]) => `${name} (${alerts.join(', ')})`);

      let missing: string[] = [];
      await waitFor(
        async () => {
          const scrapes = await Promise.all(
            [boxOffice, listeners.app].map(async (app) =>
              exposition(await scrape(app)),
            ),
          );
          missing = notExported(scrapes);
          return missing.length === 0;
        },
        {
          what: 'every metric the rules read in /metrics',
          intervalMs: 200,
        },
      ).catch(() => undefined);
      expect(missing).toEqual([]);
      expect(used.size).toBeGreaterThanOrEqual(10);
    });

    it('podium_ready shows each readiness check up, on both', async () => {
      const ready = (text: string) =>
        Object.fromEntries(
          [...text.matchAll(/^podium_ready\{check="([^"]+)"\} (\S+)$/gm)].map(
            ([, check, value]) => [check, Number(value)],
          ),
        );
      await waitFor(
        async () =>
          sample(await scrape(listeners.app), 'podium_ready', {
            check: 'queues',
          }) === 1,
        { what: 'the listeners ready', intervalMs: 200 },
      );
      expect(ready(await scrape(boxOffice))).toEqual({
        redis: 1,
        'redis-failover': 1,
        'redis-liveness': 1,
      });
      expect(ready(await scrape(listeners.app))).toEqual({
        redis: 1,
        'redis-failover': 1,
        'redis-liveness': 1,
        subscriptions: 1,
        queues: 1,
      });
    });
  });
});
