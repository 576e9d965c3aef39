import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { PODIUM_SETTINGS, type PodiumSettings } from '../../config/index.js';
import { METRICS_REGISTRY } from '../../observability/index.js';
import { OUTBOX, OUTBOX_LEASE, type Place } from '../../keyspace/index.js';
import {
  MessageEnqueuer,
  parseOutboxEntry,
  readRecordPlaces,
} from '../../queues/index.js';
import { LuaScript, REDIS, type RedisClient } from '@podium/redis';
import { OutboxMetrics } from './outbox-metrics.js';
import { readOutbox, type OutboxState } from './outbox.js';

/**
 * How long a relay's lease on the outbox lasts; renewed after every batch. A relay that
 * dies while holding it delays the others by at most this much.
 */
export const OUTBOX_LEASE_MS = 5000;
/** Entries queued per batch (one lease renewal each). */
const BATCH = 500;
/** A failing relay or an old outbox is logged at most this often. */
const WARN_EVERY_MS = 60_000;

// The due entries; the lease renewed or released only by the relay that holds it.
const DUE = LuaScript.fromFile(new URL('./outbox-due.lua', import.meta.url));
const RENEW = LuaScript.fromFile(new URL('./renew-lease.lua', import.meta.url));
const RELEASE = LuaScript.fromFile(
  new URL('./release-lease.lua', import.meta.url),
);

/** Injection token: a function, asked at start-up, that says whether this process runs the relay (default: it does). */
export const OUTBOX_RELAY_ENABLED = Symbol('OUTBOX_RELAY_ENABLED');
export type OutboxRelayEnabled = () => boolean;

/**
 * Finishes what a dead process left undone. A job that must exist (a message recorded for
 * a durable group, or claimed for a group by a listeners process) is in the outbox until
 * it was added; an entry older than OUTBOX_GRACE_MS means the process that made it died
 * (or is stuck) before that. The relay then queues the entries' messages for their groups,
 * one job per group and batch, and removes the entries: the same MessageEnqueuer.enqueue
 * the publisher uses. The message was announced as it was recorded, in the same script.
 *
 * Every publisher, and every listeners process with a queued or durable group, runs one,
 * every OUTBOX_RELAY_INTERVAL_MS. They share the work through a lease
 * (`podium:outbox:lease`, SET NX PX, renewed after every batch): one relay works at a
 * time, any of them takes over when it dies. Should a message still be queued twice (a pass
 * outliving its lease, a request slower than the grace), every listener's effects are
 * guarded by its applied marker: it is applied once.
 */
@Injectable()
export class OutboxRelay
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('OutboxRelay');
  /** Names this relay in the lease. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private metrics?: OutboxMetrics;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private stopped = false;
  private lastWarning = { old: 0, failure: 0 };

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(PODIUM_SETTINGS) private readonly env: PodiumSettings,
    private readonly enqueuer: MessageEnqueuer,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
    @Optional()
    @Inject(OUTBOX_RELAY_ENABLED)
    private readonly enabled?: OutboxRelayEnabled,
  ) {}

  onApplicationBootstrap(): void {
    if (this.enabled?.() ?? true) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Whether this relay looks at the outbox (started and not closed). */
  get running(): boolean {
    return this.timer !== undefined && !this.stopped;
  }

  /** Looks at the outbox every OUTBOX_RELAY_INTERVAL_MS from now on. */
  start(): void {
    if (this.timer || this.stopped) return;
    if (this.registry)
      this.metrics = new OutboxMetrics(
        this.registry,
        this.redis,
        this.enqueuer.keys,
      );
    this.schedule();
    this.logger.log(
      `Outbox relay on: queues the jobs still missing ${this.env.OUTBOX_GRACE_MS} ms after their messages were recorded or claimed`,
    );
  }

  /** Stops looking, waits for the pass under way and gives the lease back. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }

  /**
   * One look at the outbox: warns when its oldest entry is older than
   * OUTBOX_WARN_AGE_SECONDS, and queues the entries older than the grace when it gets the
   * lease. Resolves with the number of entries it queued.
   */
  async runOnce(): Promise<number> {
    const keys = this.enqueuer.keys;
    const state = await readOutbox(this.redis, keys);
    this.warnIfOld(state);
    if (state.oldestAgeMs < this.env.OUTBOX_GRACE_MS) return 0;
    const leased = await this.redis.set(
      OUTBOX_LEASE,
      this.owner,
      'PX',
      OUTBOX_LEASE_MS,
      'NX',
    );
    if (leased !== 'OK') return 0; // another relay is at work
    let redriven = 0;
    try {
      for (const place of await readRecordPlaces(this.redis, keys)) {
        const { queued, leaseKept } = await this.drain(place);
        redriven += queued;
        if (!leaseKept || this.stopped) break;
      }
    } finally {
      await RELEASE.run(this.redis, [OUTBOX_LEASE], [this.owner]).catch(
        () => undefined,
      );
      if (redriven > 0) {
        this.metrics?.redriven.inc(redriven);
        this.logger.warn(
          `Queued ${redriven} job(s) of messages recorded or claimed over ${this.env.OUTBOX_GRACE_MS} ms ago and never queued ` +
            '(a process stopped between recording or claiming them and queueing them)',
        );
      }
    }
    return redriven;
  }

  /**
   * Queues one outbox's due entries, a batch at a time, renewing the lease after each
   * batch; stops when the lease went to another relay.
   */
  private async drain(
    place: Place,
  ): Promise<{ queued: number; leaseKept: boolean }> {
    let queued = 0;
    for (;;) {
      const due = await DUE.run<string[]>(
        this.redis,
        [this.enqueuer.keys.key(place, OUTBOX)],
        [this.env.OUTBOX_GRACE_MS, BATCH],
      );
      if (due.length === 0) return { queued, leaseKept: true };
      await this.queueAll(due, place);
      queued += due.length;
      const renewed = await RENEW.run<number>(
        this.redis,
        [OUTBOX_LEASE],
        [this.owner, OUTBOX_LEASE_MS],
      );
      if (renewed !== 1) return { queued, leaseKept: false };
      if (due.length < BATCH || this.stopped)
        return { queued, leaseKept: true };
    }
  }

  /** One job per group for the entries; a failure leaves the entries for the next pass. */
  private async queueAll(entries: string[], place: Place): Promise<void> {
    const byGroup = new Map<string, string[]>();
    for (const entry of entries) {
      const { group, id } = parseOutboxEntry(entry);
      byGroup.set(group, [...(byGroup.get(group) ?? []), id]);
    }
    // Every group's add is let finish before a failure is reported: the lease is given
    // back only once nothing of this pass is still under way.
    const results = await Promise.allSettled(
      [...byGroup].map(([group, ids]) =>
        this.enqueuer.enqueue(group, ids, () => place),
      ),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed?.status === 'rejected') throw failed.reason;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.pass = this.runOnce()
        .then(
          () => undefined,
          (err: Error) =>
            this.throttled(
              'failure',
              `Outbox relay: ${err.message}; the entries stay for the next pass`,
            ),
        )
        .finally(() => {
          this.pass = undefined;
          if (!this.stopped) this.schedule();
        });
    }, this.env.OUTBOX_RELAY_INTERVAL_MS);
    this.timer.unref();
  }

  private warnIfOld({ entries, oldestAgeMs }: OutboxState): void {
    if (oldestAgeMs <= this.env.OUTBOX_WARN_AGE_SECONDS * 1000) return;
    this.throttled(
      'old',
      `Outbox: ${entries} job(s) of recorded messages not queued yet, the oldest entered ${Math.round(oldestAgeMs / 1000)} s ago ` +
        `(over OUTBOX_WARN_AGE_SECONDS=${this.env.OUTBOX_WARN_AGE_SECONDS}); their listeners wait for them. See docs/operations.md#outbox`,
    );
  }

  private throttled(kind: 'old' | 'failure', message: string): void {
    const now = Date.now();
    if (now - this.lastWarning[kind] < WARN_EVERY_MS) return;
    this.lastWarning[kind] = now;
    this.logger.warn(message);
  }
}
