import type { RedisClient } from '@podium/redis';
import type { Keyspace } from '../../keyspace/index.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import { readOutbox, type OutboxState } from './outbox.js';

const TIMEOUT_MS = 1000;

/**
 * podium_outbox_entries and podium_outbox_oldest_entry_age_seconds, read from Redis when
 * Prometheus scrapes (one read shared by both gauges), never on the path of a message. The
 * outbox is shared by every process: each one that runs a relay reports the same figures.
 * When Redis does not answer within a second the series are left out of that scrape.
 */
export class OutboxMetrics {
  readonly redriven: Counter;

  constructor(registry: Registry, redis: RedisClient, keys: Keyspace) {
    // An app may run two relays (a listeners module tested beside the publisher): one set of series.
    const known = registry.getSingleMetric('podium_outbox_redriven_total');
    if (known) {
      this.redriven = known as Counter;
      return;
    }
    let pending: Promise<OutboxState | undefined> | undefined;
    const snapshot = (): Promise<OutboxState | undefined> => {
      pending ??= read(redis, keys).finally(() =>
        setTimeout(() => (pending = undefined), 100).unref(),
      );
      return pending;
    };
    const registers = [registry];
    new Gauge({
      name: 'podium_outbox_entries',
      help: 'Jobs of recorded or claimed orders not queued yet, one entry per order and group (the outbox, shared by all processes).',
      registers,
      async collect() {
        const state = await snapshot();
        this.reset();
        if (state) this.set(state.entries);
      },
    });
    new Gauge({
      name: 'podium_outbox_oldest_entry_age_seconds',
      help: 'How long ago the oldest outbox entry was made; 0 when the outbox is empty.',
      registers,
      async collect() {
        const state = await snapshot();
        this.reset();
        if (state) this.set(state.oldestAgeMs / 1000);
      },
    });
    this.redriven = new Counter({
      name: 'podium_outbox_redriven_total',
      help: 'Outbox entries this process found still unqueued after the grace, and queued itself.',
      registers,
    });
  }
}

async function read(
  redis: RedisClient,
  keys: Keyspace,
): Promise<OutboxState | undefined> {
  if (redis.status !== 'ready') return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>(
    (resolve) => (timer = setTimeout(() => resolve(undefined), TIMEOUT_MS)),
  );
  try {
    return await Promise.race([
      readOutbox(redis, keys).catch(() => undefined),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
