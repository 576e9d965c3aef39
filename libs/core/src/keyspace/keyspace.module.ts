import {
  Global,
  Module,
  type DynamicModule,
  type InjectionToken,
} from '@nestjs/common';
import {
  PlacedReads,
  REDIS,
  type RedisClient,
  type RedisTarget,
} from '@podium/redis';
import { Keyspace } from './keyspace.js';

/**
 * Where each of podium's keys lives (Keyspace: the seed's names on one Redis, a layout of
 * slots on a cluster) and the reads that put the listeners' effects back together
 * (PlacedReads), for the whole app. Next to RedisModule, whose connection it reads on.
 */
@Global()
@Module({})
export class KeyspaceModule {
  static forRoot(target: RedisTarget): DynamicModule {
    return KeyspaceModule.forRootAsync({ useFactory: () => target });
  }

  /** The Redis target from the app's providers (the settings of PodiumModule). */
  static forRootAsync({
    inject = [],
    useFactory,
  }: {
    inject?: InjectionToken[];
    useFactory: (...deps: never[]) => RedisTarget;
  }): DynamicModule {
    return {
      module: KeyspaceModule,
      providers: [
        {
          provide: Keyspace,
          inject,
          useFactory: (...deps: never[]) =>
            useFactory(...deps).kind === 'cluster'
              ? Keyspace.cluster
              : Keyspace.singleRedis,
        },
        {
          provide: PlacedReads,
          inject: [REDIS, Keyspace],
          useFactory: (redis: RedisClient, keys: Keyspace) =>
            new PlacedReads(redis, keys),
        },
      ],
      exports: [Keyspace, PlacedReads],
    };
  }
}
