import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { PurchasesController } from './purchases.controller.js';
import { PurchasesService } from './purchases.service.js';

@Module({ imports: [EventsModule], controllers: [PurchasesController], providers: [PurchasesService] })
export class PurchasesModule {}
