import { Module } from '@nestjs/common';
import { OlympicsSettingsModule } from '@podium/orders';
import { EventsModule } from '../events/events.module.js';
import { ReportsController } from './reports.controller.js';
import { ReportsService } from './reports.service.js';

@Module({
  imports: [EventsModule, OlympicsSettingsModule],
  controllers: [ReportsController],
  providers: [ReportsService],
  exports: [ReportsService],
})
export class ReportsModule {}
