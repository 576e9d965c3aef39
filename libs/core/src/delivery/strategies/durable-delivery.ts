import { Injectable } from '@nestjs/common';
import { registerDurableSubscription } from '../../queues/index.js';
import { QueuedDelivery } from './queued-delivery.js';

/**
 * As queued, plus a durable subscription per group, registered in Redis at start-up: from
 * then on the publisher queues the group's messages itself as it records them (and marks
 * them queued for the group), so messages recorded while no listeners process runs wait in
 * the queue. A message is queued once whoever announced it: the claim of an announcement
 * finds the publisher's mark and adds nothing; only a message announced by a program that
 * did not queue it (a raw PUBLISH) is claimed and queued here.
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
}
