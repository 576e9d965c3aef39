import { Injectable } from '@nestjs/common';
import { registerDurableSubscription } from '../../queues/index.js';
import type { ListenerGroup } from '../listener-group.js';
import type { Heard } from './delivery-strategy.js';
import { QueuedDelivery } from './queued-delivery.js';

/**
 * A durable subscription per group, registered in Redis at start-up: from then on the
 * publisher enters the group's messages in its outbox as it records them and queues their
 * jobs (and marks them queued for the group), so messages recorded while no listeners
 * process runs wait in the queue. The job is the guarantee, not the way: members apply what
 * they hear as soon as it is announced, as ephemeral ones do, and the job then finds their
 * markers set and applies nothing again; it applies what the announcement did not reach (the
 * listeners were down, cut off, too slow, or a handler failed). A message is queued once
 * whoever announced it: the claim of an announcement finds the publisher's mark and adds
 * nothing; only a message announced by a program that did not queue it (a raw PUBLISH) is
 * claimed and queued here.
 */
@Injectable()
export class DurableDelivery extends QueuedDelivery {
  /**
   * Applies the batch at once, then makes sure of the jobs (the claim). What the first step
   * does not apply (a handler that throws, Redis refusing) is left to the job, which tries
   * again with its retries and counts what fails: nothing of it is counted here. When the
   * job came first, the handler ran for nothing and the script found the marker.
   */
  override async take(
    group: ListenerGroup,
    batch: readonly Heard[],
  ): Promise<void> {
    const startedAt = performance.now();
    const outcomes = await this.work.run(
      group.type,
      batch.map(({ id, listeners }) => ({ id, select: () => listeners })),
      { sequence: group.name, duplicatesExpected: true },
    );
    for (const { id, results } of outcomes)
      this.stats.settled(
        id,
        results.filter((r) => r.outcome !== 'failed'),
        startedAt,
      );
    await super.take(group, batch);
  }

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
