import { Module } from '@nestjs/common';
import { PublisherModule } from '@podium/publisher';
import { EventsModule } from '../events/events.module.js';
import { PurchasesController } from './purchases.controller.js';
import { PurchasesService } from './purchases.service.js';

@Module({ imports: [EventsModule, PublisherModule], controllers: [PurchasesController], providers: [PurchasesService] })
export class PurchasesModule {}
