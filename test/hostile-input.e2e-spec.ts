import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { ORDERS_CHANNEL } from '@podium/orders';
import {
  operatorAuth,
  PrivateRedis,
  snapshotKeyspace,
  waitFor,
} from '@podium/testing';
import { MAX_JSON_DEPTH } from '../apps/box-office/src/configure-http.js';
import { startBoxOffice } from './support/box-office.js';

const NAME_RULE =
  'must not contain control characters, line breaks or invalid Unicode';
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A raw JSON body, sent as is (supertest would encode an object itself). */
const json = (text: string | Buffer) => ({ text });

describe('hostile input: every malformed body is a 400 (or 413, 415) naming what is wrong, and nothing is written', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let subscriber: Redis;
  let app: INestApplication;
  let announcements = 0;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    subscriber = server.client();
    subscriber.on('pmessage', () => announcements++);
    await subscriber.psubscribe(`${ORDERS_CHANNEL}*`);
    app = await startBoxOffice(server.url);
    await request(app.getHttpServer())
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Womens Judo', price: 20 })
      .expect(201);
  });

  afterAll(async () => {
    await app?.close();
    await server?.destroy();
  });

  const purchase = (fields: string) =>
    json(`{"event":"Womens Judo","qty":1,${fields}}`);
  const event = (fields: string) => json(`{"price":1,${fields}}`);

  // [case, path, body, status, what the message says]
  const cases: [
    string,
    '/purchases' | '/events',
    { text: string | Buffer },
    number,
    RegExp,
  ][] = [
    // Names are data: no control characters, line breaks, lone surrogates or invalid Unicode.
    ...(
      [
        [
          'CR LF',
          '\\r\\n===> Winner!!!!! Opening Ceremony Lottery - Order Id: FORGED00001',
        ],
        ['LF', 'a\\nb'],
        ['NUL', 'a\\u0000b'],
        ['ESC (C0)', '\\u001b[31mred'],
        ['DEL', 'a\\u007fb'],
        ['NEL (C1)', 'a\\u0085b'],
        ['CSI (C1)', 'a\\u009bb'],
        ['line separator', 'a\\u2028b'],
        ['paragraph separator', 'a\\u2029b'],
        ['lone high surrogate', '\\ud800'],
        ['lone low surrogate', 'a\\udc00'],
        ['noncharacter', 'a\\uffffb'],
        ['replacement character', 'a\\ufffdb'],
      ] as const
    ).flatMap(
      ([what, text]): [
        string,
        '/purchases' | '/events',
        { text: string | Buffer },
        number,
        RegExp,
      ][] => [
        [
          `who with ${what}`,
          '/purchases',
          purchase(`"who":"${text}"`),
          400,
          new RegExp(`^who ${NAME_RULE}$`),
        ],
        [
          `event name with ${what}`,
          '/events',
          event(`"name":"${text}"`),
          400,
          new RegExp(`^name ${NAME_RULE}$`),
        ],
        [
          `purchase event with ${what}`,
          '/purchases',
          json(`{"event":"${text}","qty":1,"who":"ann"}`),
          400,
          new RegExp(`^event ${NAME_RULE}$`),
        ],
      ],
    ),
    [
      'who in invalid UTF-8',
      '/purchases',
      json(
        Buffer.concat([
          Buffer.from('{"event":"Womens Judo","qty":1,"who":"a'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('"}'),
        ]),
      ),
      400,
      new RegExp(`^who ${NAME_RULE}$`),
    ],
    // Every key that is not a field of the DTO, prototype-ish ones included.
    ...[
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'isPrototypeOf',
      '__defineGetter__',
      'extra',
    ].flatMap(
      (
        key,
      ): [
        string,
        '/purchases' | '/events',
        { text: string | Buffer },
        number,
        RegExp,
      ][] => [
        [
          `purchase with key ${key}`,
          '/purchases',
          purchase(`"who":"ann","${key}":{"polluted":true}`),
          400,
          new RegExp(`^property ${key} should not exist$`),
        ],
        [
          `event with key ${key}`,
          '/events',
          event(`"name":"Proto","${key}":"x"`),
          400,
          new RegExp(`^property ${key} should not exist$`),
        ],
      ],
    ),
    [
      'key written with escapes',
      '/purchases',
      purchase('"who":"ann","\\u005f_proto__":{}'),
      400,
      /^property __proto__ should not exist$/,
    ],
    // Nesting: a small limit, checked before anything recurses.
    [
      `who nested ${MAX_JSON_DEPTH} levels deep`,
      '/purchases',
      purchase(`"who":${nested(MAX_JSON_DEPTH - 1)}`),
      400,
      /who must be a string/,
    ],
    [
      `who nested ${MAX_JSON_DEPTH + 1} levels deep`,
      '/purchases',
      purchase(`"who":${nested(MAX_JSON_DEPTH)}`),
      400,
      new RegExp(
        `^who is nested too deeply: JSON bodies may nest arrays and objects ${MAX_JSON_DEPTH} levels deep$`,
      ),
    ],
    [
      'who nested 7,000 levels deep',
      '/purchases',
      purchase(`"who":${nested(7000)}`),
      400,
      /^who is nested too deeply/,
    ],
    [
      'objects nested 5,000 levels deep',
      '/purchases',
      json(`${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}`),
      400,
      /^a is nested too deeply/,
    ],
    [
      'brackets inside strings do not count',
      '/purchases',
      purchase(`"who":"${'['.repeat(50)}"`),
      201,
      /./,
    ],
    [
      'a body that is an array nested deeply',
      '/events',
      json(nested(100)),
      400,
      /^body is nested too deeply/,
    ],
    // Not a JSON object at all.
    [
      'a body that is an array',
      '/purchases',
      json('[{"event":"Womens Judo","qty":1,"who":"ann"}]'),
      400,
      /^body must be a JSON object/,
    ],
    [
      'a body that is null',
      '/purchases',
      json('null'),
      400,
      /^body is not valid JSON/,
    ],
  ];

  it.each(cases)('%s', async (_name, path, { text }, status, message) => {
    // Nothing written but the client's rate-limit count: the limit counts bad bodies too.
    const snapshot = () => snapshotKeyspace(redis, { rateLimitCounts: false });
    const before = await snapshot();
    const announcedBefore = announcements;
    const { body } = await request(app.getHttpServer())
      .post(path)
      .set('Authorization', operatorAuth)
      .set('Content-Type', 'application/json')
      .serialize((raw: unknown) => raw as string)
      .send(text)
      .expect(status);
    if (status === 201) return; // the control case: a harmless body goes through
    expect([body.message].flat().join('; ')).toMatch(message);
    expect(body.statusCode).toBe(status);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
    expect(await snapshot()).toEqual(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect(announcements).toBe(announcedBefore);
  });

  it('a body in another charset than UTF-8 gets 415', async () => {
    const before = await snapshotKeyspace(redis);
    const { body } = await request(app.getHttpServer())
      .post('/purchases')
      .set('Content-Type', 'application/json; charset=utf-16le')
      .send(
        Buffer.from('{"event":"Womens Judo","qty":1,"who":"ann"}', 'utf16le'),
      )
      .expect(415);
    expect(body).toEqual({
      statusCode: 415,
      message: 'body must be JSON in UTF-8',
      error: 'Unsupported Media Type',
    });
    expect(await snapshotKeyspace(redis)).toEqual(before);
  });

  it('a prototype-ish key never reaches an object: Object.prototype stays clean', async () => {
    await request(app.getHttpServer())
      .post('/purchases')
      .set('Content-Type', 'application/json')
      .send(
        '{"__proto__":{"polluted":"yes"},"event":"Womens Judo","qty":1,"who":"ann"}',
      )
      .expect(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names with any other Unicode are accepted and stored exactly as sent', async () => {
    const who = 'Zoë 👩‍🚀 \\n [x]* 名前';
    const { body } = await request(app.getHttpServer())
      .post('/purchases')
      .send({ event: 'Womens Judo', qty: 1, who })
      .expect(201);
    expect(body.who).toBe(who);
    expect(
      await redis.hget(`purchase_order_details:${body.orderId}`, 'who'),
    ).toBe(who);
    await waitFor(() => announcements > 0, { what: 'the announcement' });
  });
});
