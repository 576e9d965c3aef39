import { Global, Module, type DynamicModule } from '@nestjs/common';
import { PodiumEnv, validatePodiumEnv } from './podium-env.js';

/**
 * Provides the validated PodiumEnv, injected by its class. Built from process.env in the
 * apps; tests pass their own values, so several apps with different settings can run in
 * one test process.
 */
@Global()
@Module({})
export class PodiumConfigModule {
  static forRoot(
    env: PodiumEnv | Record<string, string | undefined> = process.env,
  ): DynamicModule {
    return {
      module: PodiumConfigModule,
      providers: [
        {
          provide: PodiumEnv,
          useValue: env instanceof PodiumEnv ? env : validatePodiumEnv(env),
        },
      ],
      exports: [PodiumEnv],
    };
  }
}
