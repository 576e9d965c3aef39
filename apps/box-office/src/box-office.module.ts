import { Module, type DynamicModule } from '@nestjs/common';
import { PodiumConfigModule, type PodiumEnv } from '@podium/config';
import { RedisModule } from '@podium/redis';
import { EventsModule } from './events/events.module.js';
import { ListenersModule } from './listeners/listeners.module.js';
import { PurchasesModule } from './purchases/purchases.module.js';
import { ReportsModule } from './reports/reports.module.js';

@Module({})
export class BoxOfficeModule {
  static forRoot(env: PodiumEnv): DynamicModule {
    return {
      module: BoxOfficeModule,
      imports: [
        PodiumConfigModule.forRoot(env),
        RedisModule.forRoot({ url: env.REDIS_URL, connectionName: 'podium-box-office' }),
        EventsModule,
        PurchasesModule,
        ReportsModule,
        ListenersModule,
      ],
    };
  }
}
