import { Module } from '@nestjs/common';
import { OlympicsSettingsModule } from '@podium/orders';
import { EventAlertsListener } from './event-alerts.listener.js';

@Module({
  imports: [OlympicsSettingsModule],
  providers: [EventAlertsListener],
})
export class EventAlertsModule {}
