import { Module } from '@nestjs/common';
import { BoxOfficeQueueMetrics, BoxOfficeQueues } from './box-office-queues.js';
import { ListenersController } from './listeners.controller.js';
import { ListenersService } from './listeners.service.js';

@Module({ controllers: [ListenersController], providers: [ListenersService, BoxOfficeQueues, BoxOfficeQueueMetrics], exports: [BoxOfficeQueues, ListenersService] })
export class ListenersModule {}
