import { Module } from '@nestjs/common';
import { QueuesModule } from '../queues/index.js';
import { OrderPublisher } from './order-publisher.js';
import { PurchaseReplication } from './purchase-replication.js';

/**
 * The publisher and, since whoever records orders also finishes what a dead recorder left
 * undone, the outbox relay. Needs PodiumConfigModule and RedisModule (both global) in the app.
 */
@Module({
  imports: [QueuesModule],
  providers: [OrderPublisher, PurchaseReplication],
  exports: [OrderPublisher, PurchaseReplication],
})
export class PublisherModule {}
