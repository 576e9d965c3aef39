import type { Redis } from 'ioredis';
import { seedListenersFor } from '@podium/orders';
import { basicAuthHeader, PrivateRedis, waitForApplied } from '@podium/testing';
import {
  answers200,
  IMAGE,
  logsOf,
  podman,
  requireImage,
  waitForContainers,
} from './podman.js';

/*
 * The image as an operator runs it: both apps from podium:latest (scripts/image/build.sh
 * builds it) on the host's network, against a password-protected redis-server of the test's
 * own on a free port (never the machine's Redis). npm run test:image, as root; .ci/run runs
 * it after building the image.
 */

const OPERATOR = {
  user: 'ops',
  password: 'an operator secret for the image check',
};
const REDIS_PASSWORD = 'image-check-redis-secret';
const EVENT = 'Womens Judo';

/** The port an app logged (LOG_FORMAT=json: one JSON object per line), once it listens. */
async function loggedPort(container: string, line: RegExp): Promise<number> {
  const port = await waitForContainers(
    [container],
    async () => {
      const match = line.exec(await logsOf(container, 200));
      return match ? Number(match[1]) : undefined;
    },
    `${container} to log its port`,
  );
  return port;
}

describe(`the image ${IMAGE}: both apps run from it, against a Redis on the host`, () => {
  const name = `podium-image-check-${process.pid}`;
  const boxOffice = `${name}-box-office`;
  const listeners = `${name}-listeners`;
  let server: PrivateRedis;
  let redis: Redis;
  let boxOfficeUrl: string;
  let listenersUrl: string;

  /** `podman run -d` on the host's network; PORT and HEALTH_PORT 0: the app picks a free port and logs it. */
  const start = (
    container: string,
    env: Record<string, string>,
    command: string[],
  ) =>
    podman([
      'run',
      '--detach',
      '--name',
      container,
      '--network',
      'host',
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      IMAGE,
      ...command,
    ]);

  beforeAll(async () => {
    await requireImage(IMAGE);
    server = await PrivateRedis.start({ auth: { password: REDIS_PASSWORD } });
    redis = server.client();
    await start(
      boxOffice,
      {
        REDIS_URL: server.url,
        PORT: '0',
        OPERATOR_USER: OPERATOR.user,
        OPERATOR_PASSWORD: OPERATOR.password,
      },
      ['node', 'dist/apps/box-office/src/main.js'],
    );
    await start(listeners, { REDIS_URL: server.url, HEALTH_PORT: '0' }, [
      'node',
      'dist/apps/listeners/src/main.js',
    ]);
    boxOfficeUrl = `http://127.0.0.1:${await loggedPort(boxOffice, /Listening on http:\/\/localhost:(\d+)/)}`;
    listenersUrl = `http://127.0.0.1:${await loggedPort(listeners, /Listeners process ready: .*on port (\d+)/)}`;
  });

  afterAll(async () => {
    await podman(['rm', '--force', '--ignore', boxOffice, listeners]).catch(
      (err: Error) => console.error(err.message),
    );
    await server?.destroy();
  });

  it('each app answers /health/ready', async () => {
    for (const url of [boxOfficeUrl, listenersUrl])
      await waitForContainers(
        [boxOffice, listeners],
        () => answers200(`${url}/health/ready`),
        `${url}/health/ready to answer 200`,
      );
  });

  it('a purchase made at the box office is applied by the listeners', async () => {
    const created = await fetch(`${boxOfficeUrl}/events`, {
      method: 'POST',
      headers: {
        authorization: basicAuthHeader(OPERATOR.user, OPERATOR.password),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: EVENT, price: 20 }),
    });
    expect(created.status).toBe(201);
    const bought = await fetch(`${boxOfficeUrl}/purchases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: EVENT, qty: 2, who: 'ann' }),
    });
    expect(bought.status).toBe(201);
    const { orderId } = (await bought.json()) as { orderId: string };

    // Every listener that hears it has applied it (its marker in Redis)...
    await waitForApplied(redis, orderId, seedListenersFor(EVENT), 20_000);
    // ...and the box office's read API shows sales-summary's effect.
    const sales = (await (
      await fetch(`${boxOfficeUrl}/metrics/sales`)
    ).json()) as { event: string; totalSales: number; ticketsSold: number }[];
    expect(sales).toContainEqual(
      expect.objectContaining({ event: EVENT, totalSales: 40, ticketsSold: 2 }),
    );
  });

  it('runs as user node (uid 1000) with neither npm nor typescript, and its OpenAPI document answers without typescript', async () => {
    const found = await podman([
      'exec',
      boxOffice,
      'sh',
      '-c',
      'id -u; id -un; command -v npm npx yarn; ls -d node_modules/typescript 2>/dev/null; true',
    ]);
    expect(found.trim().split('\n')).toEqual(['1000', 'node']);
    expect(await answers200(`${boxOfficeUrl}/docs-json`)).toBe(true);
  });

  it('both apps stop on SIGTERM (podman stop) and exit 0', async () => {
    await podman(['stop', '--time', '30', boxOffice, listeners], 60_000);
    const exits = await podman([
      'inspect',
      '--format',
      '{{.State.ExitCode}}',
      boxOffice,
      listeners,
    ]);
    expect(exits.trim().split('\n')).toEqual(['0', '0']);
  });
});
