import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { eventKey } from '@podium/orders';
import {
  BoxOfficeProcess,
  OPERATOR_ENV,
  operatorAuth,
  PrivateRedis,
  waitFor,
} from '@podium/testing';

const BOX_OFFICE_MAIN = fileURLToPath(
  new URL('../dist/apps/box-office/src/main.js', import.meta.url),
);

interface Answer {
  status: number | 'error';
  sentAt: number;
  connection?: string;
  message?: string;
}

/** One POST on a kept-alive connection of `agent`. */
function post(
  agent: Agent,
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest(
      `${url}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          const parsed = text ? (JSON.parse(text) as { message?: string }) : {};
          resolve({
            status: res.statusCode!,
            sentAt,
            connection: res.headers.connection,
            message: parsed.message,
          });
        });
      },
    );
    req.on('error', () => resolve({ status: 'error', sentAt }));
    req.end(JSON.stringify(body));
  });
}

describe('SIGTERM to the box office under load', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let boxOffice: BoxOfficeProcess | undefined;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
  });

  afterAll(async () => {
    if (boxOffice && !boxOffice.exited) await boxOffice.kill();
    await server?.destroy();
  });

  it('refuses new requests at once (kept-alive connections included), finishes those in flight, records exactly what it answered 201, and exits 0', async () => {
    boxOffice = await BoxOfficeProcess.start(BOX_OFFICE_MAIN, {
      REDIS_URL: server.url,
      ...OPERATOR_ENV,
      PURCHASE_RATE_LIMIT: '0',
    });
    const url = boxOffice.url;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    expect(
      (
        await post(
          agent,
          url,
          '/events',
          { name: 'Womens Judo', price: 20 },
          { authorization: operatorAuth },
        )
      ).status,
    ).toBe(201);

    const answers: Answer[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        const answer = await post(agent, url, '/purchases', {
          event: 'Womens Judo',
          qty: 1,
          who: 'load',
        });
        answers.push(answer);
        if (answer.status === 'error') return; // the server is gone
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await waitFor(() => answers.filter((a) => a.status === 201).length >= 100, {
      what: '100 purchases before the signal',
    });

    const exitCode = await boxOffice.terminate();
    stop = true;
    await Promise.all(clients);
    agent.destroy();
    expect(exitCode).toBe(0);

    const refused = answers.filter((a) => a.status === 503);
    for (const a of refused) {
      expect(a.message).toBe(
        'the box office is shutting down; try again (another instance, or in a moment)',
      );
      expect(a.connection).toBe('close');
    }
    // Once one client was refused, no request sent after that was taken.
    const firstRefusal = Math.min(
      ...refused.map((a) => a.sentAt),
      ...answers.filter((a) => a.status === 'error').map((a) => a.sentAt),
    );
    expect(
      answers.filter((a) => a.status === 201 && a.sentAt > firstRefusal),
    ).toEqual([]);
    expect(
      answers.filter(
        (a) => a.status !== 201 && a.status !== 503 && a.status !== 'error',
      ),
    ).toEqual([]);
    // Every purchase answered 201 is recorded, and nothing else.
    expect(Number(await redis.hget(eventKey('Womens Judo'), 'sold'))).toBe(
      answers.filter((a) => a.status === 201).length,
    );
  });
});
