import {
  Controller,
  Get,
  Injectable,
  Module,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  HealthCheck,
  HealthCheckService,
  TerminusModule,
} from '@nestjs/terminus';
import { Registry } from 'prom-client';
import request from 'supertest';
import { PrivateRedis, waitFor } from '@podium/testing';
import {
  defineMessageType,
  MessagePublisher,
  OnMessage,
  PodiumHealthIndicator,
  PodiumModule,
  PodiumOptionsError,
  AnnouncementTransport,
  type Effects,
  type PodiumModuleOptions,
} from '../index.js';

/** A message of the app's own: tickets scanned at a gate. */
interface Scan {
  id: string;
  gate: string;
  tickets: number;
}
const SCAN = defineMessageType<Scan>()({
  name: 'scan',
  idField: 'id',
  recordKeyPrefix: 'scan:',
  toHash: ({ id, gate, tickets }) => ({ id, gate, tickets: String(tickets) }),
  fromHash: (id, hash) => ({
    id,
    gate: hash.gate,
    tickets: Number(hash.tickets),
  }),
  channels: (scan) => ['scans', `scans:${scan.gate}`],
});

/** A listener of the app's own: counts tickets per gate. */
@Injectable()
class TicketsByGate {
  @OnMessage(SCAN, { listener: 'tickets-by-gate', pattern: 'scans:*' })
  count(scan: Scan): Effects {
    return {
      writes: [['HINCRBY', 'tickets_by_gate', scan.gate, scan.tickets]],
    };
  }
}

@Injectable()
class AlsoTicketsByGate {
  @OnMessage(SCAN, { listener: 'tickets-by-gate', channel: 'scans' })
  count(): null {
    return null;
  }
}

/** The app's own configuration, as an app with @nestjs/config would have it. */
@Injectable()
class AppConfig {
  constructor(readonly redisUrl: string) {}
}

/** The app's own /health, with podium's checks beside its own. */
@Controller('health')
class AppHealth {
  constructor(
    private readonly health: HealthCheckService,
    private readonly podium: PodiumHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check(this.podium.checks());
  }
}

async function start(
  root: Parameters<typeof Test.createTestingModule>[0],
): Promise<INestApplication> {
  const module = await Test.createTestingModule(root).compile();
  const app = module.createNestApplication({ logger: false });
  try {
    app.connectMicroservice({ strategy: app.get(AnnouncementTransport) });
    await app.init();
    await app.startAllMicroservices();
    await app.get(AnnouncementTransport).whenSubscribed();
    return app;
  } catch (err) {
    await app.close(); // a start that failed leaves no connection open
    throw err;
  }
}

/** The one line start-up stops with. */
async function startUpError(
  root: Parameters<typeof Test.createTestingModule>[0],
): Promise<string> {
  const app = await start(root).catch((err: Error) => err);
  if (app instanceof Error) return app.message;
  await app.close();
  throw new Error('start-up did not stop');
}

describe('PodiumModule', () => {
  let server: PrivateRedis;
  let redis: ReturnType<PrivateRedis['client']>;
  let url: string;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    url = server.url;
  });
  afterAll(() => server.stop());

  it('forRootAsync: options from the app’s own provider; publishes and listens; metrics in the app’s registry; health in its Terminus checks', async () => {
    const registry = new Registry();
    @Module({
      providers: [{ provide: AppConfig, useValue: new AppConfig(url) }],
      exports: [AppConfig],
    })
    class ConfigModule {}

    const app = await start({
      imports: [
        PodiumModule.forRootAsync({
          imports: [ConfigModule],
          inject: [AppConfig],
          useFactory: (config: AppConfig): PodiumModuleOptions => ({
            redis: { url: config.redisUrl },
            delivery: { defaultMode: 'durable' },
            metrics: { registry },
          }),
        }),
        TerminusModule,
      ],
      providers: [TicketsByGate],
      controllers: [AppHealth],
    });
    try {
      const result = await app
        .get(MessagePublisher)
        .publish(SCAN, { gate: 'north', tickets: 3 });
      expect(result.outcome).toBe('created');
      await waitFor(
        async () => (await redis.hget('tickets_by_gate', 'north')) === '3',
        { what: 'the listener to count the scan' },
      );
      expect(
        await registry.getSingleMetricAsString('podium_orders_published_total'),
      ).toMatch(/podium_orders_published_total 1/);
      const health = await request(app.getHttpServer()).get('/health');
      expect(health.status).toBe(200);
      expect(Object.keys(health.body.details)).toEqual(
        expect.arrayContaining(['redis', 'redis-liveness']),
      );
    } finally {
      await app.close();
    }
  });

  it.each([
    [
      'an unknown mode',
      (): PodiumModuleOptions => ({
        redis: { url },
        delivery: { defaultMode: 'fast' as never },
      }),
      /^podium options: delivery\.defaultMode must be one of ephemeral, queued, durable$/,
    ],
    [
      'no Redis target',
      (): PodiumModuleOptions => ({}) as PodiumModuleOptions,
      /^podium options: redis is missing: give redis\.url, redis\.sentinels with redis\.sentinelName, or redis\.clusterNodes$/,
    ],
    [
      'a misspelt option',
      (): PodiumModuleOptions =>
        ({ redis: { url, waitReplica: 1 } }) as PodiumModuleOptions,
      /^podium options: redis\.waitReplica is not an option \(known: .*waitReplicas/,
    ],
    [
      'a mode for no listener',
      (): PodiumModuleOptions => ({
        redis: { url },
        delivery: { modes: { 'tickets-by-gat': 'durable' } },
      }),
      /delivery\.modes\["tickets-by-gat"\] \(DELIVERY_TICKETS_BY_GAT\) names no listener; known: tickets-by-gate/,
    ],
  ])(
    '%s stops start-up with one line naming it, through forRoot and forRootAsync',
    async (_, options, message) => {
      for (const podium of [
        PodiumModule.forRoot(options()),
        PodiumModule.forRootAsync({
          useFactory: () => Promise.resolve(options()),
        }),
      ]) {
        const line = await startUpError({
          imports: [podium],
          providers: [TicketsByGate],
        });
        expect(line).toMatch(message);
        expect(line).not.toContain('\n');
      }
    },
  );

  it('a listener named twice stops start-up, naming it', async () => {
    const line = await startUpError({
      imports: [PodiumModule.forRoot({ redis: { url } })],
      providers: [TicketsByGate, AlsoTicketsByGate],
    });
    expect(line).toBe(
      'Two handlers claim listener "tickets-by-gate"; listener names must be unique',
    );
  });

  it('the error is a PodiumOptionsError', async () => {
    await expect(
      Test.createTestingModule({
        imports: [PodiumModule.forRoot({ redis: { url: 'http://x' } })],
      }).compile(),
    ).rejects.toThrow(PodiumOptionsError);
  });
});
