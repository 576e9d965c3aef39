import { Module, type DynamicModule } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { PodiumConfigModule, type PodiumEnv } from '@podium/config';
import { ObservabilityModule } from '@podium/observability';
import { RedisModule } from '@podium/redis';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { EventsModule } from './events/events.module.js';
import { ListenersModule } from './listeners/listeners.module.js';
import { LiveDashboardModule } from './live-dashboard/live-dashboard.module.js';
import { PurchasesModule } from './purchases/purchases.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.js';
import { ReportsModule } from './reports/reports.module.js';
import { ShutdownModule } from './shutdown/shutdown.module.js';

@Module({})
export class BoxOfficeModule {
  static forRoot(env: PodiumEnv, { logDestination }: { logDestination?: DestinationStream } = {}): DynamicModule {
    return {
      module: BoxOfficeModule,
      imports: [
        PodiumConfigModule.forRoot(env),
        RedisModule.forRoot({ url: env.REDIS_URL, connectionName: 'podium-box-office', failFast: true }),
        ObservabilityModule.forRoot({ app: 'box-office', env, logDestination }),
        RateLimitModule,
        ShutdownModule,
        EventsModule,
        PurchasesModule,
        ReportsModule,
        ListenersModule,
        DashboardModule,
        LiveDashboardModule,
      ],
    };
  }
}
