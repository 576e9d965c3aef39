import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { PodiumModule } from '@podium/core';
import { AppConfig } from './app.config.js';
import { HealthController } from './health.controller.js';
import { SHIPMENT_LISTENERS } from './shipment.listeners.js';
import { ShipmentsController } from './shipments.controller.js';

/** The app's prom-client registry: podium's metrics join the app's own. */
export const registry = new Registry();

@Module({ providers: [AppConfig], exports: [AppConfig] })
class ConfigModule {}

@Module({
  imports: [
    PodiumModule.forRootAsync({
      imports: [ConfigModule],
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        redis: { url: config.redisUrl },
        metrics: { registry },
      }),
    }),
    TerminusModule,
  ],
  controllers: [ShipmentsController, HealthController],
  providers: [...SHIPMENT_LISTENERS],
})
export class AppModule {}
