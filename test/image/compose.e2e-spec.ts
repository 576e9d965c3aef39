import { getMetadataStorage } from 'class-validator';
import { appliedKey, PodiumEnv, validatePodiumEnv } from '@podium/core';
import { olympicsSettingsFromEnv, seedListenersFor } from '@podium/orders';
import { basicAuthHeader } from '@podium/testing';
import {
  answers200,
  freeHostPort,
  IMAGE,
  podman,
  podmanPath,
  requireImage,
  run,
  waitForContainers,
} from './podman.js';

/*
 * docker-compose.yml, checked twice: parsed (each app's command, ports and variables against
 * what the app reads and validates), then run with Debian's podman-compose on the image
 * scripts/image/build.sh built, and its redis:7 (Debian's redis-server: Docker Hub cannot be
 * reached). npm run test:image, as root.
 */

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const SECRETS = {
  REDIS_PASSWORD: 'compose-check-redis-secret',
  OPERATOR_PASSWORD: 'an operator secret for the compose check',
};

/** What a compose tool makes of ${NAME}, ${NAME:-default} and ${NAME:?message}. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g,
    (_, name: string, kind?: string, word?: string) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (kind === '?') throw new Error(`${name}: ${word}`);
      return kind === '-' ? (word ?? '') : '';
    },
  );
}

/** The file as YAML parses it (python3-yaml, which podman-compose itself uses), anchors merged. */
async function parseCompose(): Promise<Record<string, ComposeService>> {
  const json = await run('python3', [
    '-c',
    'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)',
    'docker-compose.yml',
  ]);
  return (JSON.parse(json) as { services: Record<string, ComposeService> })
    .services;
}

/**
 * Every variable the apps read: PodiumEnv's (validated at start-up), DELIVERY_<NAME> and
 * DELIVERY_GROUP_<NAME>, and the Olympics settings (olympicsSettingsFromEnv).
 */
const PODIUM_VARIABLES = new Set(
  getMetadataStorage()
    .getTargetValidationMetadatas(PodiumEnv, '', true, false)
    .map((m) => m.propertyName),
);
const knownVariable = (name: string) =>
  PODIUM_VARIABLES.has(name) ||
  /^DELIVERY_[A-Z0-9_]+$/.test(name) ||
  ['HISTOGRAM_ENCODING', 'ALERTS_MAX'].includes(name);

const APPS = {
  'box-office': {
    main: 'dist/apps/box-office/src/main.js',
    portVariable: 'PORT',
  },
  listeners: {
    main: 'dist/apps/listeners/src/main.js',
    portVariable: 'HEALTH_PORT',
  },
} as const;

describe('docker-compose.yml, parsed: each app as the app reads it', () => {
  let services: Record<string, ComposeService>;

  beforeAll(async () => {
    services = await parseCompose();
  });

  it('has redis, box-office and listeners; the apps run the image and wait for redis', () => {
    expect(Object.keys(services).sort()).toEqual([
      'box-office',
      'listeners',
      'redis',
    ]);
    for (const app of Object.keys(APPS)) {
      expect(services[app].image).toBe(IMAGE);
      expect(services[app].depends_on).toEqual({
        redis: { condition: 'service_healthy' },
      });
    }
    const redisCommand = services.redis.command!.map((arg) =>
      interpolate(arg, SECRETS),
    );
    expect(redisCommand.join(' ')).toContain('--appendonly yes');
    expect(redisCommand.join(' ')).toContain(
      `--requirepass ${SECRETS.REDIS_PASSWORD}`,
    );
  });

  it.each(Object.entries(APPS))(
    '%s: its command, known variables that the app accepts, its port published and health-checked',
    (app, { main, portVariable }) => {
      const service = services[app];
      expect(service.command).toEqual(['node', main]);
      const env = Object.fromEntries(
        Object.entries(service.environment!).map(([name, value]) => [
          name,
          interpolate(value, SECRETS),
        ]),
      );
      expect(Object.keys(env).filter((name) => !knownVariable(name))).toEqual(
        [],
      );
      const config = validatePodiumEnv(env); // throws as the app would at start-up
      olympicsSettingsFromEnv(env);
      expect(new URL(env.REDIS_URL)).toMatchObject({
        hostname: 'redis',
        port: '6379',
        password: SECRETS.REDIS_PASSWORD,
      });
      const port = String(config[portVariable]);
      expect(service.ports).toHaveLength(1);
      expect(service.ports![0].split(':').at(-1)).toBe(port);
      expect(service.healthcheck!.test.join(' ')).toContain(
        `http://127.0.0.1:${port}/health/ready`,
      );
    },
  );
});

describe('docker-compose.yml, run with podman-compose: both apps ready, healthchecks pass, a purchase applied', () => {
  const project = `podium-compose-check-${process.pid}`;
  const container = (service: string) => `${project}_${service}_1`;
  const containers = ['redis', 'box-office', 'listeners'].map(container);
  /** The host's ports for the apps (BOX_OFFICE_PORT, LISTENERS_PORT), free ones: never 3000 and 3001. */
  const ports = { boxOffice: 0, listeners: 0 };
  const compose = (args: string[], timeoutMs = 120_000) =>
    run(
      'podman-compose',
      ['--podman-path', podmanPath, '--project-name', project, ...args],
      {
        timeoutMs,
        env: {
          ...process.env,
          ...SECRETS,
          OPERATOR_USER: 'ops',
          BOX_OFFICE_PORT: String(ports.boxOffice),
          LISTENERS_PORT: String(ports.listeners),
        },
      },
    );
  let boxOfficeUrl: string;
  let listenersUrl: string;

  beforeAll(async () => {
    await requireImage(IMAGE);
    await requireImage('redis:7');
    ports.boxOffice = await freeHostPort();
    ports.listeners = await freeHostPort();
    // podman-compose 1.0.3 exits 0 even when a container could not be created: each must run.
    const output = await compose(['up', '--detach', '--no-build']);
    const running = await podman([
      'ps',
      '--filter',
      `label=io.podman.compose.project=${project}`,
      '--format',
      '{{.Names}}',
    ]);
    expect({ running: running.trim().split('\n').sort(), output }).toEqual({
      running: [...containers].sort(),
      output,
    });
    boxOfficeUrl = `http://127.0.0.1:${ports.boxOffice}`;
    listenersUrl = `http://127.0.0.1:${ports.listeners}`;
  });

  afterAll(async () => {
    // down keeps the project's network (podman-compose 1.0.3): removed after it.
    await compose(['down', '--volumes', '--timeout', '30'], 120_000).catch(
      (err: Error) => console.error(err.message),
    );
    await podman(['network', 'rm', '--force', `${project}_default`]).catch(
      (err: Error) => console.error(err.message),
    );
  });

  it('both apps answer /health/ready on their published ports', async () => {
    for (const url of [boxOfficeUrl, listenersUrl])
      await waitForContainers(
        containers,
        () => answers200(`${url}/health/ready`),
        `${url}/health/ready to answer 200`,
      );
  });

  it("each service's healthcheck passes when run (podman schedules none without systemd)", async () => {
    const results = [];
    for (const name of containers)
      results.push(
        await podman(['healthcheck', 'run', name]).then(
          () => `${name}: healthy`,
          (err: Error) => `${name}: ${err.message}`,
        ),
      );
    expect(results).toEqual(containers.map((name) => `${name}: healthy`));
  });

  it('a purchase made at the box office is applied by the listeners (durable, as compose sets it)', async () => {
    const event = 'Mens Fencing';
    const created = await fetch(`${boxOfficeUrl}/events`, {
      method: 'POST',
      headers: {
        authorization: basicAuthHeader('ops', SECRETS.OPERATOR_PASSWORD),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: event, price: 15 }),
    });
    expect(created.status).toBe(201);
    const bought = await fetch(`${boxOfficeUrl}/purchases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event, qty: 3, who: 'bob' }),
    });
    expect(bought.status).toBe(201);
    const { orderId } = (await bought.json()) as { orderId: string };
    // Redis is not published: its listeners' markers are read inside its container.
    await waitForContainers(
      containers,
      async () => {
        const marks = await podman([
          'exec',
          container('redis'),
          'redis-cli',
          'HMGET',
          appliedKey(orderId),
          ...seedListenersFor(event),
        ]);
        return marks
          .trim()
          .split('\n')
          .every((m) => m === '1');
      },
      `${orderId} applied by ${seedListenersFor(event).join(', ')}`,
    );
    const sales = (await (
      await fetch(`${boxOfficeUrl}/metrics/sales`)
    ).json()) as { event: string; totalSales: number; ticketsSold: number }[];
    expect(sales).toContainEqual(
      expect.objectContaining({ event, totalSales: 45, ticketsSold: 3 }),
    );
  });
});
