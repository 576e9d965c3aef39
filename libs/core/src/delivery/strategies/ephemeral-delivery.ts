import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import type { ListenerGroup } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import { MessageWork, type ListenerResult } from '../work/message-work.js';
import type { DeliveryStrategy, Heard } from './delivery-strategy.js';

/** Tries of a message whose effects Redis refused (out of memory, a blip), 100 ms apart, doubling. */
export const EPHEMERAL_REDIS_TRIES = 4;

/**
 * At most once: the listeners that heard an announcement run on it at once, in this
 * process, a batch of messages at a time. Effects that Redis refuses are tried again
 * briefly; a handler that throws, or effects still refused after that, fail: logged,
 * counted, and kept in the listener's failed set (podium:failed:<listener>), from which
 * the API can announce the message again.
 */
@Injectable()
export class EphemeralDelivery implements DeliveryStrategy {
  constructor(
    private readonly work: MessageWork,
    private readonly stats: ListenerStats,
  ) {}

  async take(group: ListenerGroup, batch: readonly Heard[]): Promise<void> {
    const startedAt = performance.now();
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const outcomes = await this.work.run(
        group.type,
        pending.map(({ id, listeners }) => ({
          id,
          select: () => listeners,
        })),
        { sequence: group.name, fresh: attempt > 1 },
      );
      const again: Heard[] = [];
      for (const [i, { id, results, rejected, unread }] of outcomes.entries()) {
        const heard = pending[i].listeners;
        if (rejected) {
          this.stats.rejected(id, heard, rejected);
          if (rejected.poison)
            for (const l of heard)
              await this.stats.keepFailed(l.name, id, rejected, 'rejected');
          continue;
        }
        // Unread: Redis did not give the message; every listener that heard it failed this try.
        const tried: ListenerResult[] = unread
          ? heard.map((listener) => ({
              listener,
              outcome: 'failed',
              error: unread,
              failedIn: 'redis',
            }))
          : results;
        const retry =
          attempt < EPHEMERAL_REDIS_TRIES
            ? tried.filter((r) => r.failedIn === 'redis')
            : [];
        const settled = tried.filter((r) => !retry.includes(r));
        this.stats.settled(id, settled, startedAt);
        for (const r of settled)
          if (r.outcome === 'failed')
            await this.stats.keepFailed(r.listener.name, id, r.error!);
        if (retry.length > 0)
          again.push({ id, listeners: retry.map((r) => r.listener) });
      }
      pending = again;
      if (pending.length > 0) await sleep(100 * 2 ** (attempt - 1));
    }
  }

  queueOf(): null {
    return null;
  }
}
