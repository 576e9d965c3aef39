import {
  Inject,
  Injectable,
  Logger,
  type MessageEvent,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Observable, Subject } from 'rxjs';
import { PODIUM_SETTINGS, type PodiumSettings, escapeGlob } from '@podium/core';
import { eventChannel } from '@podium/orders';
import { createSubscriber } from '@podium/redis';
import { DashboardSnapshotService } from './dashboard-snapshot.service.js';

/** At most one snapshot read this often, however fast purchases come. */
export const MIN_INTERVAL_MS = 250;
/** After a purchase, wait this long before reading: its listeners apply it within a few ms (ephemeral) to tens of ms (durable). */
export const SETTLE_MS = 100;
/** One more read this long after the last purchase, for effects applied later (queued and durable listeners, retries). */
export const FOLLOW_UP_MS = 1000;
/** And a read this often while a page is open, for what no purchase announces (listeners restarting, queues draining). */
export const HEARTBEAT_MS = 2000;
const EVENT_CHANNEL_PREFIX = eventChannel('');
const EVENT_CHANNELS = `${escapeGlob(EVENT_CHANNEL_PREFIX)}*`;
/** EventSource reconnects this long after a lost connection. */
const RECONNECT_MS = 2000;

/**
 * Pushes dashboard snapshots to the open pages. One read serves every page: it is triggered
 * by purchases (a subscriber on `purchase_orders:*`, so orders recorded by any box office
 * count), throttled, and repeated on a heartbeat. Nothing runs while no page is open. On
 * shutdown every stream ends, so a graceful stop does not wait for the pages to leave.
 */
@Injectable()
export class LiveUpdatesService implements OnModuleDestroy {
  private readonly logger = new Logger('LiveDashboard');
  private readonly snapshots = new Subject<MessageEvent>();
  private latest?: { at: number; event: MessageEvent };
  private viewers = 0;
  private subscriber?: Redis;
  private heartbeat?: NodeJS.Timeout;
  private followUp?: NodeJS.Timeout;
  private due?: NodeJS.Timeout;
  /** A read must start at or after this time to show everything asked for so far. */
  private wantedAt = 0;
  private lastReadAt = 0;
  private reading = false;
  private failing = false;
  private stopping = false;

  constructor(
    private readonly source: DashboardSnapshotService,
    @Inject(PODIUM_SETTINGS) private readonly env: PodiumSettings,
  ) {}

  /** True once the app is stopping: no new stream is started. */
  get closed(): boolean {
    return this.stopping;
  }

  /** One page's stream: a hello, the latest snapshot at once (when recent), then every new one. */
  updates(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      if (this.stopping) return subscriber.complete();
      // First how often to expect a snapshot (the page shows when they stop) and when to reconnect.
      subscriber.next({
        type: 'hello',
        data: JSON.stringify({ heartbeatMs: HEARTBEAT_MS }),
        retry: RECONNECT_MS,
      });
      const subscription = this.snapshots.subscribe(subscriber);
      if (this.latest && Date.now() - this.latest.at < 2 * HEARTBEAT_MS)
        subscriber.next(this.latest.event);
      if (this.viewers++ === 0) this.start();
      else this.request(0);
      return () => {
        subscription.unsubscribe();
        if (--this.viewers === 0) this.stop();
      };
    });
  }

  onModuleDestroy(): void {
    this.stopping = true;
    this.snapshots.complete();
    this.stop();
  }

  private start(): void {
    // A connection of its own: a subscribed connection can run no other command.
    const subscriber = createSubscriber(
      this.env.redisTarget,
      'podium-box-office-dashboard',
      { autoPipelining: false },
    );
    // The per-event channels: one message per order, which names its event.
    subscriber.on('pmessage', (_pattern: string, channel: string) =>
      this.onPurchase(channel.slice(EVENT_CHANNEL_PREFIX.length)),
    );
    subscriber
      .psubscribe(EVENT_CHANNELS)
      .catch((err: Error) =>
        this.logger.warn(
          `cannot subscribe to ${EVENT_CHANNELS}: ${err.message}`,
        ),
      );
    this.subscriber = subscriber;
    this.heartbeat = setInterval(() => this.request(0), HEARTBEAT_MS);
    this.request(0);
  }

  private stop(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.followUp);
    clearTimeout(this.due);
    this.heartbeat = this.followUp = this.due = undefined;
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private onPurchase(event: string): void {
    this.source.orderAnnounced(event);
    this.request(SETTLE_MS);
    clearTimeout(this.followUp);
    this.followUp = setTimeout(() => this.request(0), FOLLOW_UP_MS);
  }

  /** Asks for a read starting no sooner than `delayMs` from now. */
  private request(delayMs: number): void {
    this.wantedAt = Math.max(this.wantedAt, Date.now() + delayMs);
    this.schedule();
  }

  private schedule(): void {
    if (this.due || this.reading || this.stopping || this.viewers === 0) return;
    if (this.wantedAt < this.lastReadAt) return; // the last read started after everything asked for
    const at = Math.max(this.wantedAt, this.lastReadAt + MIN_INTERVAL_MS);
    this.due = setTimeout(
      () => {
        this.due = undefined;
        void this.read();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private async read(): Promise<void> {
    this.reading = true;
    this.lastReadAt = Date.now();
    try {
      const snapshot = await this.source.read();
      if (this.stopping) return;
      // Serialized once for every page.
      const event: MessageEvent = {
        type: 'snapshot',
        data: JSON.stringify(snapshot),
      };
      this.latest = { at: snapshot.at, event };
      this.snapshots.next(event);
      if (this.failing) this.logger.log('snapshots read again');
      this.failing = false;
    } catch (err) {
      // Said once per outage, not on every heartbeat.
      if (!this.failing && !this.stopping)
        this.logger.warn(
          `cannot read a dashboard snapshot: ${(err as Error).message}`,
        );
      this.failing = true;
    } finally {
      this.reading = false;
      this.schedule();
    }
  }
}
