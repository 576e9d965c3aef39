import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { PodiumHealthIndicator } from '@podium/core';

/** The app's own /health: podium's readiness checks beside the app's. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly podium: PodiumHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([...this.podium.checks()]);
  }
}
