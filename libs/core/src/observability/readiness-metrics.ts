import type { HealthIndicatorService } from '@nestjs/terminus';
import { Gauge, type Registry } from 'prom-client';
import type { ReadinessChecks } from './health.js';

/**
 * podium_ready{check}: what /health/ready would answer, one series per readiness check (1 up
 * or degraded, 0 down), so that an alert can say which process is not ready and why. The
 * checks run when Prometheus scrapes, each within READINESS_TIMEOUT_MS as on /health/ready.
 */
export function registerReadinessMetrics(
  registry: Registry,
  checks: ReadinessChecks,
  indicators: HealthIndicatorService,
): void {
  new Gauge({
    name: 'podium_ready',
    help: '1 while the readiness check (of /health/ready, run when Prometheus scrapes) passes, else 0.',
    labelNames: ['check'],
    registers: [registry],
    async collect() {
      const results = await Promise.all(
        checks.named().map(async ([check, run]) => {
          try {
            const result = await run(indicators);
            const up = Object.values(result).every((r) => r.status !== 'down');
            return { check, up };
          } catch {
            return { check, up: false };
          }
        }),
      );
      this.reset();
      for (const { check, up } of results) this.set({ check }, up ? 1 : 0);
    },
  });
}
