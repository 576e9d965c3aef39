import { Registry } from 'prom-client';
import { eventChannel, ORDERS_CHANNEL, ORDER } from '@podium/orders';
import { DeliveryMetrics } from '../delivery-metrics.js';
import type { DeliveryOptions } from '../delivery.options.js';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import type {
  DeliveryStrategy,
  Heard,
} from '../strategies/delivery-strategy.js';
import {
  AnnouncementDispatcher,
  MAX_BATCH_MESSAGES,
} from './announcement-dispatcher.js';
import type { AnnouncementTransport } from './announcement-transport.js';

const member = (
  name: string,
  group: string,
  pattern = ORDERS_CHANNEL,
): RunningListener => ({
  name,
  pattern,
  oneSlot: false,
  type: ORDER,
  mode: 'ephemeral',
  group,
  handle: () => null,
});

/** A strategy that keeps every batch it is given, each taken care of when the test says so. */
class KeptBatches implements DeliveryStrategy {
  readonly taken: { group: string; batch: Heard[]; done: () => void }[] = [];

  take(group: ListenerGroup, batch: readonly Heard[]): Promise<void> {
    return new Promise((resolve) =>
      this.taken.push({ group: group.name, batch: [...batch], done: resolve }),
    );
  }

  queueOf(): null {
    return null;
  }

  /** Per batch taken: its group, and each order with the names of the members that heard it. */
  get shape(): { group: string; heard: [string, string[]][] }[] {
    return this.taken.map(({ group, batch }) => ({
      group,
      heard: batch.map((h) => [h.id, h.listeners.map((l) => l.name)]),
    }));
  }

  finishAll(): void {
    for (const { done } of this.taken) done();
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('AnnouncementDispatcher', () => {
  // Group `main`: one member on the orders channel, one on Womens Judo's. Group `slow`: one on the orders channel.
  const all = member('all', 'main');
  const judo = member('judo', 'main', eventChannel('Womens Judo'));
  const slowOne = member('slow-one', 'slow');
  const main: ListenerGroup = {
    name: 'main',
    type: ORDER,
    mode: 'ephemeral',
    listeners: [all, judo],
  };
  const slow: ListenerGroup = {
    name: 'slow',
    type: ORDER,
    mode: 'ephemeral',
    listeners: [slowOne],
  };

  let strategy: KeptBatches;
  let flow: string[];
  let registry: Registry;

  function dispatcher(maxInFlight = 1000): AnnouncementDispatcher {
    const transport = {
      pause: () => flow.push('pause'),
      resume: () => flow.push('resume'),
    } as unknown as AnnouncementTransport;
    return new AnnouncementDispatcher(
      new DeliveryMetrics(registry),
      { maxInFlight } as DeliveryOptions,
      transport,
    );
  }

  beforeEach(() => {
    strategy = new KeptBatches();
    flow = [];
    registry = new Registry();
  });

  it('hands the messages of one tick to each group once: every order with the members that heard it, once, in announcement order', async () => {
    const dispatch = dispatcher();
    // Two orders, each announced on both channels, as a subscriber reads them.
    dispatch.heard(main, strategy, [all], 'A1');
    dispatch.heard(slow, strategy, [slowOne], 'A1');
    dispatch.heard(main, strategy, [judo], 'A1');
    dispatch.heard(main, strategy, [all], 'B2');
    dispatch.heard(slow, strategy, [slowOne], 'B2');
    // A pattern that matches both channels hears the order twice.
    dispatch.heard(main, strategy, [all], 'B2');
    expect(strategy.taken).toEqual([]); // nothing before the end of the tick
    await tick();
    expect(strategy.shape).toEqual([
      {
        group: 'main',
        heard: [
          ['A1', ['all', 'judo']],
          ['B2', ['all']],
        ],
      },
      {
        group: 'slow',
        heard: [
          ['A1', ['slow-one']],
          ['B2', ['slow-one']],
        ],
      },
    ]);

    // The next tick's messages are the next batch.
    dispatch.heard(main, strategy, [judo], 'C3');
    await tick();
    expect(strategy.shape.slice(2)).toEqual([
      { group: 'main', heard: [['C3', ['judo']]] },
    ]);
  });

  it('counts every message each member heard, duplicates included', async () => {
    const dispatch = dispatcher();
    dispatch.heard(main, strategy, [all], 'A1');
    dispatch.heard(main, strategy, [judo], 'A1');
    dispatch.heard(main, strategy, [all], 'A1');
    await tick();
    const received = await registry
      .getSingleMetric('podium_listener_messages_received_total')!
      .get();
    expect(
      received.values.map(({ labels, value }) => [labels.listener, value]),
    ).toEqual([
      ['all', 2],
      ['judo', 1],
    ]);
  });

  it('hands on a text payload as it came, and anything else as text', async () => {
    const dispatch = dispatcher();
    dispatch.heard(main, strategy, [all], '00123');
    dispatch.heard(main, strategy, [all], 42);
    await tick();
    expect(strategy.taken[0].batch.map((h) => h.id)).toEqual(['00123', '42']);
  });

  it(`cuts a read of more than ${MAX_BATCH_MESSAGES} orders into batches of ${MAX_BATCH_MESSAGES}, in order`, async () => {
    const dispatch = dispatcher();
    const ids = Array.from({ length: 250 }, (_, i) => `ORDER${i}`);
    for (const id of ids) dispatch.heard(main, strategy, [all], id);
    await tick();
    const batches = strategy.taken.map((t) => t.batch.map((h) => h.id));
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat()).toEqual(ids);
  });

  it('counts each order of each group in flight until its batch is taken care of; drain waits for all of them', async () => {
    const dispatch = dispatcher();
    for (const id of ['A1', 'B2', 'C3']) {
      dispatch.heard(main, strategy, [all], id);
      dispatch.heard(main, strategy, [judo], id);
    }
    dispatch.heard(slow, strategy, [slowOne], 'A1');
    expect(dispatch.size).toBe(4); // counted as they arrive
    let drained = false;
    const draining = dispatch.drain().then(() => (drained = true));
    await tick();
    expect(strategy.taken).toHaveLength(2);

    strategy.taken[1].done(); // slow's batch
    await tick();
    expect(dispatch.size).toBe(3);
    expect(drained).toBe(false);
    strategy.taken[0].done();
    await draining;
    expect(dispatch.size).toBe(0);
  });

  it('stops the transport reading at MAX_IN_FLIGHT, and lets it read again once half of that is done', async () => {
    const dispatch = dispatcher(4);
    for (const id of ['A1', 'B2', 'C3'])
      dispatch.heard(main, strategy, [all], id);
    await tick();
    expect(flow).toEqual([]);
    dispatch.heard(main, strategy, [all], 'D4');
    expect(flow).toEqual(['pause']); // at once, before the end of the tick
    dispatch.heard(main, strategy, [all], 'E5'); // what was read already still comes in
    await tick();
    expect(dispatch.size).toBe(5);
    expect(flow).toEqual(['pause']);

    strategy.taken[1].done(); // D4 and E5: 3 left, more than half of 4
    await tick();
    expect(dispatch.size).toBe(3);
    expect(flow).toEqual(['pause']);
    strategy.taken[0].done(); // A1, B2, C3
    await dispatch.drain();
    expect(flow).toEqual(['pause', 'resume']);
    strategy.finishAll();
  });
});
