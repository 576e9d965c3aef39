import { Injectable } from '@nestjs/common';
import { jobKey, registerDurableSubscription } from '@podium/queues';
import type { ListenerGroup } from '../listener-group.js';
import { QueuedDelivery } from './queued-delivery.js';

/**
 * As queued, plus a durable subscription per group, registered in Redis at start-up: from
 * then on the box office enqueues one job per matching order itself, before announcing it,
 * so orders recorded while no listeners process runs wait in the queue. An order is
 * enqueued once whoever announced it: this process adds the job only when the
 * announcement came from a program that did not (a raw PUBLISH), which it sees by the job's
 * absence.
 */
@Injectable()
export class DurableDelivery extends QueuedDelivery {
  override async start(): Promise<void> {
    for (const group of this.groups) {
      await registerDurableSubscription(this.redis, {
        group: group.name,
        listeners: group.listeners.map((l) => l.name),
        patterns: [...new Set(group.listeners.map((l) => l.pattern))],
      });
    }
    await super.start();
  }

  protected override async needsEnqueue(
    group: ListenerGroup,
    orderId: string,
  ): Promise<boolean> {
    return (await this.redis.exists(jobKey(group.name, orderId))) === 0;
  }
}
