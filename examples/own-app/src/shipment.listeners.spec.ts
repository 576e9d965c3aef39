import {
  DELIVERY_MODES,
  PrivateRedis,
  startListenerModule,
  waitFor,
  type ListenerModuleTest,
} from '@podium/testing';
import { Module } from '@nestjs/common';
import { SHIPMENT, type Shipment } from './shipment.js';
import { SHIPMENT_LISTENERS } from './shipment.listeners.js';

@Module({ providers: [...SHIPMENT_LISTENERS] })
class ShipmentListenersModule {}

/** A shipment with defaults for what a test does not care about (podium makes the id). */
const shipment = (fields: Partial<Shipment>): Omit<Shipment, 'id'> => ({
  carrier: 'ups',
  customer: 'tester',
  parcels: 1,
  ...fields,
});

// Each listener names its mode in code; here the configuration puts all three in one mode.
describe.each(DELIVERY_MODES)('the shipment listeners, %s', (mode) => {
  let server: PrivateRedis;
  let listeners: ListenerModuleTest<Shipment, Partial<Shipment>>;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    listeners = await startListenerModule({
      type: SHIPMENT,
      make: shipment,
      listeners: [ShipmentListenersModule],
      redis: server,
      env: {
        DELIVERY_LIVE_BOARD: mode,
        DELIVERY_LABELS: mode,
        DELIVERY_BILLING: mode,
      },
      logger: false,
    });
  });
  afterAll(async () => {
    await listeners?.close();
    await server?.destroy();
  });

  it('runs every listener in this mode', () => {
    expect(listeners.listeners.map((l) => l.mode)).toEqual([mode, mode, mode]);
  });

  it('applies a published shipment once in each listener', async () => {
    const sent = await listeners.publish({
      carrier: 'dhl',
      customer: 'ada',
      parcels: 2,
    });
    expect(await listeners.applied(sent)).toEqual({
      'live-board': 'applied',
      labels: 'applied',
      billing: 'applied',
    });
    const { redis } = listeners;
    expect(await redis.hget('board:parcels', 'dhl')).toBe('2');
    expect(await redis.smembers('labels:dhl')).toEqual([sent.id]);
    expect(await redis.hget('billed:parcels', 'ada')).toBe('2');
  });

  it('applies a shipment announced twice by another program once', async () => {
    const first = await listeners.announce({
      carrier: 'fedex',
      customer: 'bo',
      parcels: 5,
    });
    await listeners.applied(first);
    await listeners.announce({ ...first });
    const count = (outcome: string) =>
      listeners.outcomes(first.id).filter((o) => o.outcome === outcome).length;
    // Ephemeral listeners hear it again and find it applied; queued and durable ones queue
    // a shipment once per group, so the second announcement adds no job.
    if (mode === 'ephemeral')
      await waitFor(() => count('duplicate') === 3, {
        what: 'the second announcement to be a duplicate for each listener',
      });
    expect(count('applied')).toBe(3);
    expect(await listeners.redis.hget('billed:parcels', 'bo')).toBe('5');
    expect(await listeners.redis.hget('board:parcels', 'fedex')).toBe('5');
  });

  it('rejects a malformed shipment in every listener, and applies nothing', async () => {
    const broken = await listeners.announce({ carrier: 'tnt', parcels: 0 });
    await expect(listeners.applied(broken)).rejects.toThrow(/rejected it/);
    expect(await listeners.redis.hget('board:parcels', 'tnt')).toBeNull();
  });
});
