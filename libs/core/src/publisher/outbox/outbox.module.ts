import {
  Module,
  type DynamicModule,
  type InjectionToken,
} from '@nestjs/common';
import {
  OUTBOX_RELAY_ENABLED,
  OutboxRelay,
  type OutboxRelayEnabled,
} from './outbox-relay.js';

export interface OutboxModuleOptions {
  /**
   * Decides, at start-up, whether this process runs the relay (the listeners process: only
   * when it runs durable listeners). Without it, the relay runs.
   */
  enabled?: {
    inject: InjectionToken[];
    useFactory: (...deps: never[]) => OutboxRelayEnabled;
  };
}

/** The outbox relay (see OutboxRelay). PodiumModule decides whether it runs (see outboxRelay there). */
@Module({})
export class OutboxModule {
  static forRoot({ enabled }: OutboxModuleOptions = {}): DynamicModule {
    return {
      module: OutboxModule,
      providers: [
        OutboxRelay,
        ...(enabled ? [{ provide: OUTBOX_RELAY_ENABLED, ...enabled }] : []),
      ],
      exports: [OutboxRelay],
    };
  }
}
