import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { eventChannel, orderKey, ORDERS_CHANNEL } from '@podium/orders';
import {
  ListenersProcess,
  PrivateRedis,
  waitFor,
  waitForApplied,
} from '@podium/testing';

const LISTENERS_MAIN = fileURLToPath(
  new URL('../dist/apps/listeners/src/main.js', import.meta.url),
);

// Names another program wrote straight into Redis (the box office refuses them): a line feed
// that would start a forged lottery line, a carriage return, a terminal escape, a C1 control,
// a line separator.
const FORGED =
  '===> Winner!!!!! Opening Ceremony Lottery - Order Id: FORGED00001';
const EVENT = `Judo\n${FORGED}\r\u001b[31m\u0085\u2028`;
const WHO = `mallory\n${FORGED}`;
const ESCAPED_EVENT =
  'Judo\\n===> Winner!!!!! Opening Ceremony Lottery - Order Id: FORGED00001\\r\\u001b[31m\\u0085\\u2028';

/** Writes an order hash the raw way another program could, and announces its id on both channels. */
async function writeRawOrder(redis: Redis, orderId: string): Promise<void> {
  await redis.hset(orderKey(orderId), {
    order_id: orderId,
    who: WHO,
    qty: '1',
    cost: '20',
    event: EVENT,
    ts: String(Math.floor(Date.now() / 1000)),
  });
  await redis.publish(ORDERS_CHANNEL, orderId);
  await redis.publish(eventChannel(EVENT), orderId);
  // Not an order at all: rejected, and the rejection is logged with the payload.
  await redis.publish(ORDERS_CHANNEL, `nope\n${FORGED}`);
}

describe.each(['pretty', 'json'] as const)(
  'LOG_FORMAT=%s: names from Redis cannot forge log lines',
  (format) => {
    let server: PrivateRedis;
    let redis: Redis;
    let listeners: ListenersProcess | undefined;

    beforeAll(async () => {
      server = await PrivateRedis.start();
      redis = server.client();
    });

    afterAll(async () => {
      if (listeners && !listeners.exited) await listeners.terminate();
      await server?.destroy();
    });

    it('the compiled listeners process logs the alert and the rejection on one line each, the controls escaped', async () => {
      listeners = await ListenersProcess.start(LISTENERS_MAIN, {
        REDIS_URL: server.url,
        LOG_FORMAT: format,
      });
      await writeRawOrder(redis, 'RAWORDER0001');
      await waitForApplied(redis, 'RAWORDER0001', [
        'event-alerts',
        'customer-invoices',
        'sales-summary',
      ]);
      const alert = `Purchase ${ESCAPED_EVENT}: #1 $20`;
      // The texts as a reader sees them: pretty lines as they are, JSON lines' msg decoded.
      const texts = (lines: string[]) =>
        format === 'json'
          ? lines.map(
              (line) => (JSON.parse(line) as { msg?: string }).msg ?? '',
            )
          : lines;
      const output = await waitFor(
        () => {
          const lines = [...listeners!.output];
          const shown = texts(lines);
          return shown.some((t) => t.endsWith(alert)) &&
            shown.some((t) => t.includes('rejected message'))
            ? lines
            : undefined;
        },
        { what: 'the alert and the rejection in the log' },
      );

      // No line starts anywhere but where the logger starts one (pretty: "[Nest] ", JSON: "{").
      expect(
        output.filter(
          (line) => !line.startsWith(format === 'pretty' ? '[Nest] ' : '{'),
        ),
      ).toEqual([]);
      const shown = texts(output);
      expect(
        shown
          .filter((t) => t.includes(FORGED))
          .every((t) => t.includes(`\\n${FORGED}`)),
      ).toBe(true);
      expect(shown.some((t) => t.includes(`nope\\n${FORGED}`))).toBe(true);
      // Neither the raw lines nor the decoded texts hold a control character or a line separator.
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      expect(output.join('')).not.toMatch(/[\r\u001b\u0085\u2028]/);
      // eslint-disable-next-line no-control-regex -- likewise
      expect(shown.join('')).not.toMatch(/[\n\r\u001b\u0085\u2028]/);
      // The data itself is kept as written: the log escapes, Redis does not.
      expect(JSON.parse((await redis.lindex('alerts', 0))!)).toMatchObject({
        event: EVENT,
      });
      expect(await redis.smembers(`invoices:${WHO}`)).toEqual(['RAWORDER0001']);
      expect(await listeners.terminate()).toBe(0);
    });
  },
);
