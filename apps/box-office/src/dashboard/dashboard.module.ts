import { Module } from '@nestjs/common';
import { ListenersModule } from '../listeners/listeners.module.js';
import { QueueDashboard } from './queue-dashboard.js';

@Module({
  imports: [ListenersModule],
  providers: [QueueDashboard],
  exports: [QueueDashboard],
})
export class DashboardModule {}
