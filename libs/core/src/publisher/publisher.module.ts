import { Module } from '@nestjs/common';
import { QueuesModule } from '../queues/index.js';
import { OrderPublisher } from './order-publisher.js';
import { PurchaseReplication } from './purchase-replication.js';

/**
 * The publisher. Part of PodiumModule (with `publish`), which also runs the outbox relay:
 * whoever records orders finishes what a dead recorder left undone.
 */
@Module({
  imports: [QueuesModule],
  providers: [OrderPublisher, PurchaseReplication],
  exports: [OrderPublisher, PurchaseReplication],
})
export class PublisherModule {}
