import { Module } from '@nestjs/common';
import { PublisherModule } from '@podium/core';
import { PurchasesController } from './purchases.controller.js';
import { PurchasesService } from './purchases.service.js';

/** Purchases, rate limited per client IP address (PURCHASE_RATE_LIMIT a minute: see the controller). */
@Module({
  imports: [PublisherModule],
  controllers: [PurchasesController],
  providers: [PurchasesService],
})
export class PurchasesModule {}
