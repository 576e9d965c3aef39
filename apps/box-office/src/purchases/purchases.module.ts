import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { PodiumEnv } from '@podium/config';
import { PublisherModule } from '@podium/publisher';
import { EventsModule } from '../events/events.module.js';
import { PurchasesController } from './purchases.controller.js';
import { PurchasesService } from './purchases.service.js';

/**
 * Purchases, rate limited per client IP address (PURCHASE_RATE_LIMIT a minute, counted in
 * this process's memory; 0 turns it off): 429 with Retry-After beyond it.
 */
@Module({
  imports: [
    EventsModule,
    PublisherModule,
    ThrottlerModule.forRootAsync({
      inject: [PodiumEnv],
      useFactory: (env: PodiumEnv) => ({
        throttlers: [{ ttl: 60_000, limit: Math.max(env.PURCHASE_RATE_LIMIT, 1) }],
        skipIf: () => env.PURCHASE_RATE_LIMIT === 0,
        errorMessage: `too many purchases from this client: at most ${env.PURCHASE_RATE_LIMIT} a minute`,
      }),
    }),
  ],
  controllers: [PurchasesController],
  providers: [PurchasesService],
})
export class PurchasesModule {}
