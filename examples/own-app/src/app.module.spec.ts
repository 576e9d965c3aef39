import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  ListenerRegistrar,
  OrderPublisher,
  PurchaseTransport,
} from '@podium/core';
import { PrivateRedis, waitFor } from '@podium/testing';
import { AppConfig } from './app.config.js';
import { AppModule, registry } from './app.module.js';

describe('an app of its own with PodiumModule (examples/own-app)', () => {
  let server: PrivateRedis;
  let app: INestApplication;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    const module = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(AppConfig)
      .useValue({ redisUrl: server.url })
      .compile();
    app = module.createNestApplication({ logger: false });
    app.connectMicroservice({ strategy: app.get(PurchaseTransport) });
    await app.init();
    await app.startAllMicroservices();
    await app.get(PurchaseTransport).whenSubscribed();
  });
  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  it('runs its listener in the mode its decorator names, applies a purchase once, and serves podium in its /health and registry', async () => {
    expect(
      app.get(ListenerRegistrar).active.map((l) => [l.name, l.mode]),
    ).toEqual([['tickets-by-buyer', 'durable']]);
    const redis = server.client();
    await redis.hset('events:Archery', 'price', '20');

    const result = await app
      .get(OrderPublisher)
      .purchase({ event: 'Archery', qty: 2, who: 'ada' });

    expect(result.outcome).toBe('created');
    await waitFor(
      async () => (await redis.hget('tickets_by_buyer', 'ada')) === '2',
      { what: 'tickets-by-buyer to apply the order' },
    );
    const health = await request(app.getHttpServer()).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.details.redis.status).toBe('up');
    expect(
      await registry.getSingleMetricAsString('podium_orders_published_total'),
    ).toMatch(/podium_orders_published_total 1$/m);
  });
});
