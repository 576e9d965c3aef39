import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { recordListeners } from '@podium/core';
import {
  basicAuthHeader,
  OPERATOR_ENV,
  operatorAuth,
  PrivateRedis,
  snapshotKeyspace,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';

const CHALLENGE = 'Basic realm="podium operator", charset="UTF-8"';
const NOT_CONFIGURED =
  'operator endpoints are off: set OPERATOR_USER and OPERATOR_PASSWORD to use them';

type Send = (http: ReturnType<typeof request>) => request.Test;

/** Every endpoint that changes configuration or replays work. */
const OPERATOR_ENDPOINTS: [string, Send][] = [
  [
    'POST /events',
    (http) => http.post('/events').send({ name: 'Relay', price: 5 }),
  ],
  [
    'GET /listeners/:name/failed',
    (http) => http.get('/listeners/sales-summary/failed'),
  ],
  [
    'POST /listeners/:name/failed/retry',
    (http) => http.post('/listeners/sales-summary/failed/retry'),
  ],
  ['GET /queues', (http) => http.get('/queues')],
  ['GET /queues/api/queues', (http) => http.get('/queues/api/queues')],
];

const WRONG_CREDENTIALS: [string, string | undefined][] = [
  ['no Authorization header', undefined],
  [
    'a wrong password',
    basicAuthHeader(OPERATOR_ENV.OPERATOR_USER, 'wrong password, long enough'),
  ],
  ['a wrong user', basicAuthHeader('root', OPERATOR_ENV.OPERATOR_PASSWORD)],
  [
    'the password with a prefix',
    basicAuthHeader(
      OPERATOR_ENV.OPERATOR_USER,
      `x${OPERATOR_ENV.OPERATOR_PASSWORD}`,
    ),
  ],
  ['another scheme', `Bearer ${OPERATOR_ENV.OPERATOR_PASSWORD}`],
];

describe('operator endpoints: behind OPERATOR_USER and OPERATOR_PASSWORD', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let app: INestApplication;
  let unconfigured: INestApplication;

  /**
   * Sends the request and checks that not one key or value changed; with `counted`, but
   * the clients' rate-limit counts (refused credentials count against POST /events's limit).
   */
  async function keyspaceUnchanged(
    send: () => request.Test,
    status: number,
    { counted = false } = {},
  ): Promise<request.Response> {
    const snapshot = () =>
      snapshotKeyspace(redis, { rateLimitCounts: !counted });
    const before = await snapshot();
    const response = await send().expect(status);
    expect(await snapshot()).toEqual(before);
    return response;
  }

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    await recordListeners(redis, [
      {
        name: 'sales-summary',
        mode: 'queued',
        group: 'queued',
        pattern: 'purchase_orders',
        queue: 'queued',
        startedAt: Date.now(),
      },
    ]);
    app = await startBoxOffice(server.url, { EVENT_RATE_LIMIT: '1000' });
    unconfigured = await startBoxOffice(server.url, {
      OPERATOR_USER: '',
      OPERATOR_PASSWORD: '',
    });
    await request(app.getHttpServer())
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Sprint', price: 5 })
      .expect(201);
  });

  afterAll(async () => {
    await app?.close();
    await unconfigured?.close();
    await server?.destroy();
  });

  describe.each(OPERATOR_ENDPOINTS)('%s', (_name, send) => {
    it.each(WRONG_CREDENTIALS)(
      'with %s: 401 with a basic authentication challenge, nothing written',
      async (_case, authorization) => {
        const http = request(app.getHttpServer());
        const { body, headers } = await keyspaceUnchanged(
          () => {
            const req = send(http);
            return authorization
              ? req.set('Authorization', authorization)
              : req;
          },
          401,
          { counted: true },
        );
        expect(headers['www-authenticate']).toBe(CHALLENGE);
        expect(body).toEqual({
          statusCode: 401,
          message: 'operator credentials required (HTTP basic authentication)',
          error: 'Unauthorized',
        });
      },
    );

    it('without configured credentials: 403 naming OPERATOR_USER and OPERATOR_PASSWORD, whatever the request sends', async () => {
      const http = request(unconfigured.getHttpServer());
      for (const authorization of [undefined, operatorAuth]) {
        const { body } = await keyspaceUnchanged(
          () => {
            const req = send(http);
            return authorization
              ? req.set('Authorization', authorization)
              : req;
          },
          403,
          { counted: true },
        );
        expect(body).toEqual({
          statusCode: 403,
          message: NOT_CONFIGURED,
          error: 'Forbidden',
        });
      }
    });
  });

  it('with the credentials each operator endpoint works', async () => {
    const http = () => request(app.getHttpServer());
    await http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Relay', price: 5 })
      .expect(201);
    expect(await redis.hgetall('events:Relay')).toEqual({
      name: 'Relay',
      price: '5',
      sold: '0',
    });
    expect(
      (
        await http()
          .get('/listeners/sales-summary/failed')
          .set('Authorization', operatorAuth)
          .expect(200)
      ).body,
    ).toEqual([]);
    expect(
      (
        await http()
          .post('/listeners/sales-summary/failed/retry')
          .set('Authorization', operatorAuth)
          .expect(200)
      ).body,
    ).toEqual({ retried: 0 });
    await http().get('/queues').set('Authorization', operatorAuth).expect(200);
  });

  it('purchases and the read API need no credentials, configured or not', async () => {
    for (const target of [app, unconfigured]) {
      const http = () => request(target.getHttpServer());
      await http()
        .post('/purchases')
        .send({ event: 'Sprint', qty: 1, who: 'open' })
        .expect(201);
      for (const path of [
        '/events',
        '/metrics/sales',
        '/metrics/histogram',
        '/customers/open/invoices',
        '/lottery/winners',
        '/alerts',
        '/listeners',
        '/health/ready',
        '/metrics',
        '/docs-json',
      ]) {
        await http().get(path).expect(200);
      }
    }
  });

  it('POST /events is rate limited per client (EVENT_RATE_LIMIT a minute), refused guesses at the credentials included', async () => {
    // A client of its own, behind a proxy: the box offices above counted 127.0.0.1's
    // requests, in the one count every box office on this Redis shares.
    const limited = await startBoxOffice(server.url, {
      EVENT_RATE_LIMIT: '3',
      TRUST_PROXY: '1',
    });
    const post = (name: string, authorization: string) =>
      request(limited.getHttpServer())
        .post('/events')
        .set('X-Forwarded-For', '198.51.100.7')
        .set('Authorization', authorization)
        .send({ name, price: 1 });
    try {
      await post('Limited 1', operatorAuth)
        .expect(201)
        .expect('x-ratelimit-limit', '3');
      await post(
        'Limited 2',
        basicAuthHeader(OPERATOR_ENV.OPERATOR_USER, 'a guess at the password'),
      ).expect(401);
      await post('Limited 3', operatorAuth).expect(201);
      // The request past the limit writes only the client's block; those after it nothing.
      const { body, headers } = await keyspaceUnchanged(
        () => post('Limited 4', operatorAuth),
        429,
        { counted: true },
      );
      expect(body).toEqual({
        statusCode: 429,
        message: 'too many new events from this client: at most 3 a minute',
      });
      expect(Number(headers['retry-after'])).toBeGreaterThan(0);
      await keyspaceUnchanged(
        () =>
          post(
            'Limited 5',
            basicAuthHeader(OPERATOR_ENV.OPERATOR_USER, 'another guess'),
          ),
        429,
      );
      // Each route counts on its own: purchases are not limited by the events' limit.
      for (let i = 0; i < 4; i++)
        await request(limited.getHttpServer())
          .post('/purchases')
          .set('X-Forwarded-For', '198.51.100.7')
          .send({ event: 'Sprint', qty: 1, who: 'counted' })
          .expect(201);
    } finally {
      await limited.close();
    }
  });

  it('/docs-json marks the operator endpoints with basic authentication and their 401 and 403 answers', async () => {
    const { body: doc } = await request(app.getHttpServer())
      .get('/docs-json')
      .expect(200);
    expect(doc.components.securitySchemes.operator).toMatchObject({
      type: 'http',
      scheme: 'basic',
    });
    const operations = [
      doc.paths['/events'].post,
      doc.paths['/listeners/{name}/failed'].get,
      doc.paths['/listeners/{name}/failed/retry'].post,
    ];
    for (const operation of operations) {
      expect(operation.security).toEqual([{ operator: [] }]);
      expect(Object.keys(operation.responses)).toEqual(
        expect.arrayContaining(['401', '403']),
      );
    }
    expect(doc.paths['/events'].post.responses['429']).toBeDefined();
    for (const open of [
      doc.paths['/events'].get,
      doc.paths['/listeners'].get,
      doc.paths['/purchases'].post,
    ])
      expect(open.security).toBeUndefined();
  });
});
