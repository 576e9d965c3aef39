import { Module } from '@nestjs/common';
import { EventAlertsListener } from './event-alerts.listener.js';

@Module({ providers: [EventAlertsListener] })
export class EventAlertsModule {}
