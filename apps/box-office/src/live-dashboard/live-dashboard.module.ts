import {
  Module,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { PodiumEnv, operatorAuth } from '@podium/core';
import { EventsModule } from '../events/events.module.js';
import { ListenersModule } from '../listeners/listeners.module.js';
import { ReportsModule } from '../reports/reports.module.js';
import { DashboardSnapshotService } from './dashboard-snapshot.service.js';
import { LiveDashboardController } from './live-dashboard.controller.js';
import { LiveUpdatesService } from './live-updates.service.js';

/** The live dashboard at /dashboard, behind the operator credentials. */
@Module({
  imports: [EventsModule, ReportsModule, ListenersModule],
  controllers: [LiveDashboardController],
  providers: [DashboardSnapshotService, LiveUpdatesService],
})
export class LiveDashboardModule implements NestModule {
  constructor(private readonly env: PodiumEnv) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(operatorAuth(this.env)).forRoutes(LiveDashboardController);
  }
}
