import { Module } from '@nestjs/common';
import { QueuesModule } from '../queues/index.js';
import { MessagePublisher } from './message-publisher.js';
import { RecordReplication } from './record-replication.js';

/**
 * The publisher. Part of PodiumModule (with `publish`), which also runs the outbox relay:
 * whoever records messages finishes what a dead recorder left undone.
 */
@Module({
  imports: [QueuesModule],
  providers: [MessagePublisher, RecordReplication],
  exports: [MessagePublisher, RecordReplication],
})
export class PublisherModule {}
