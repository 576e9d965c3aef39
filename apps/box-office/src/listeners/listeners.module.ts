import { Module } from '@nestjs/common';
import { BoxOfficeQueueMetrics, BoxOfficeQueues } from './box-office-queues.js';
import { ListenerMetrics } from './listener-metrics.js';
import { ListenersController } from './listeners.controller.js';
import { ListenersService } from './listeners.service.js';

@Module({
  controllers: [ListenersController],
  providers: [
    ListenersService,
    BoxOfficeQueues,
    BoxOfficeQueueMetrics,
    ListenerMetrics,
  ],
  exports: [BoxOfficeQueues, ListenersService],
})
export class ListenersModule {}
