import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DELIVERY_MODES } from '@podium/core';
import { LISTENER_MODULES } from '@podium/listeners';
import { OPENING_CEREMONY } from '@podium/orders';
import { keySlot } from '@podium/redis';
import {
  ClusterTopology,
  operatorAuth,
  startListenersApp,
  waitFor,
  type RunningListenersApp,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';

const EVENTS = ['Womens Judo', OPENING_CEREMONY, 'Mens 4x400', 'Archery'];

/*
 * podium on a Redis Cluster (three primaries, a replica each, on loopback): the box office
 * and the listeners configured by REDIS_CLUSTER_NODES only, every seed figure exact through
 * the read API, in each delivery mode, with the work spread over the primaries.
 */
describe.each(DELIVERY_MODES)('on a Redis Cluster, %s delivery', (mode) => {
  let cluster: ClusterTopology;
  let boxOffice: INestApplication;
  let listeners: RunningListenersApp;
  const env = () => ({
    REDIS_CLUSTER_NODES: cluster.nodesEnv,
    PURCHASE_RATE_LIMIT: '0',
  });
  const http = () => request(boxOffice.getHttpServer());

  beforeAll(async () => {
    cluster = await ClusterTopology.start({
      primaries: 3,
      replicasPerPrimary: 1,
    });
    // REDIS_URL gives no address on a cluster (only credentials and TLS): any will do.
    listeners = await startListenersApp({
      redisUrl: 'redis://unused:6379',
      listeners: LISTENER_MODULES,
      env: { ...env(), DELIVERY: mode },
      logger: false,
    });
    boxOffice = await startBoxOffice('redis://unused:6379', env());
    for (const name of EVENTS)
      await http()
        .post('/events')
        .set('Authorization', operatorAuth)
        .send({ name, price: 20 })
        .expect(201);
  }, 60_000);

  afterAll(async () => {
    await boxOffice?.close();
    await listeners?.close();
    await cluster?.destroy();
  });

  it("applies every purchase once: the seed's figures exact through the read API, the work spread over the primaries", async () => {
    const bought: {
      orderId: string;
      event: string;
      qty: number;
      who: string;
      cost: number;
    }[] = [];
    for (let i = 0; i < 60; i++) {
      const { body } = await http()
        .post('/purchases')
        .send({
          event: EVENTS[i % EVENTS.length],
          qty: 1 + (i % 3),
          who: `fan-${i % 5}`,
        })
        .expect(201);
      bought.push(body);
    }
    const of = (event: string) => bought.filter((o) => o.event === event);
    const sum = (orders: typeof bought, field: 'qty' | 'cost') =>
      orders.reduce((n, o) => n + o[field], 0);
    const expected = [...EVENTS].sort().map((event) => ({
      event,
      totalSales: sum(of(event), 'cost'),
      ticketsSold: sum(of(event), 'qty'),
      orders: of(event).length,
    }));
    await waitFor(
      async () => {
        const { body } = await http().get('/metrics/sales').expect(200);
        return JSON.stringify(body) === JSON.stringify(expected);
      },
      { what: 'the sales to add up', timeoutMs: 20_000 },
    );
    const { body: hours } = await http().get('/metrics/histogram').expect(200);
    expect(hours.hours.reduce((a: number, b: number) => a + b, 0)).toBe(
      sum(bought, 'qty'),
    );
    const { body: invoices } = await http()
      .get('/customers/fan-1/invoices')
      .expect(200);
    expect(invoices.map((o: { orderId: string }) => o.orderId).sort()).toEqual(
      bought
        .filter((o) => o.who === 'fan-1')
        .map((o) => o.orderId)
        .sort(),
    );
    const { body: winners } = await http().get('/lottery/winners').expect(200);
    expect(winners).toHaveLength(Math.floor(of(OPENING_CEREMONY).length / 5));
    const { body: alerts } = await http().get('/alerts?limit=1000').expect(200);
    expect(alerts).toHaveLength(bought.length - of(OPENING_CEREMONY).length);
    const { body: statuses } = await http().get('/listeners').expect(200);
    for (const status of statuses) expect(status.lag).toBe(0);
    // Ready, with the cluster's own check among the ones it ran.
    const { body: ready } = await http().get('/health/ready').expect(200);
    expect(ready.info).toHaveProperty('redis-cluster');
    // Each event's purchases sit in its own slot, and the events on more than one primary.
    const primaries = new Set(
      await Promise.all(
        EVENTS.map(
          async (e) =>
            (await cluster.primaryOfSlot(keySlot(`events:${e}`))).port,
        ),
      ),
    );
    expect(primaries.size).toBeGreaterThan(1);
    // The effects are split in parts, on every primary (the seed's single keys are not used).
    const client = cluster.client();
    const holders = await Promise.all(
      client
        .nodes('master')
        .map(async (node) => (await node.keys('{part*}:sales_summary')).length),
    );
    expect(holders.every((n) => n > 0)).toBe(true);
    expect(await client.exists('sales_summary')).toBe(0);
  });
});
