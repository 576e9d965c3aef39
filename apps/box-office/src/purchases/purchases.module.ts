import { Module } from '@nestjs/common';
import { OrderPublisherModule } from '@podium/orders';
import { PurchasesController } from './purchases.controller.js';
import { PurchasesService } from './purchases.service.js';

/** Purchases, rate limited per client IP address (PURCHASE_RATE_LIMIT a minute: see the controller). */
@Module({
  imports: [OrderPublisherModule],
  controllers: [PurchasesController],
  providers: [PurchasesService],
})
export class PurchasesModule {}
