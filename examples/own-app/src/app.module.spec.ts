import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AnnouncementTransport, ListenerRegistrar } from '@podium/core';
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
    app.connectMicroservice({ strategy: app.get(AnnouncementTransport) });
    await app.init();
    await app.startAllMicroservices();
    await app.get(AnnouncementTransport).whenSubscribed();
  });
  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  it('runs each listener in the mode its decorator names', () => {
    expect(
      app.get(ListenerRegistrar).active.map((l) => [l.name, l.mode]),
    ).toEqual([
      ['live-board', 'ephemeral'],
      ['labels', 'queued'],
      ['billing', 'durable'],
    ]);
  });

  it('publishes a shipment from POST /shipments; every listener applies it once; podium is in its /health and registry', async () => {
    const redis = server.client();
    const posted = await request(app.getHttpServer())
      .post('/shipments')
      .send({ carrier: 'dhl', customer: 'ada', parcels: 3 });
    expect(posted.status).toBe(201);
    const { id } = posted.body as { id: string };

    expect(await redis.hgetall(`shipment:${id}`)).toEqual({
      id,
      carrier: 'dhl',
      customer: 'ada',
      parcels: '3',
    });
    await waitFor(
      async () =>
        (await redis.hget('board:parcels', 'dhl')) === '3' &&
        (await redis.sismember('labels:dhl', id)) === 1 &&
        (await redis.hget('billed:parcels', 'ada')) === '3',
      { what: 'live-board, labels and billing to apply the shipment' },
    );
    const health = await request(app.getHttpServer()).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.details.redis.status).toBe('up');
    expect(
      await registry.getSingleMetricAsString('podium_orders_published_total'),
    ).toMatch(/podium_orders_published_total 1$/m);
  });

  it('answers 400 naming the field of a bad shipment, and records nothing', async () => {
    const redis = server.client();
    const before = await redis.dbsize();
    const bad = await request(app.getHttpServer())
      .post('/shipments')
      .send({ carrier: 'dhl', customer: 'ada', parcels: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe(
      'parcels must be a whole number of at least 1',
    );
    expect(await redis.dbsize()).toBe(before);
  });
});
