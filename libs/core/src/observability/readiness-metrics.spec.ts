import { HealthIndicatorService } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { ReadinessChecks } from './health.js';
import { registerReadinessMetrics } from './readiness-metrics.js';

describe('podium_ready', () => {
  it('is 1 for each readiness check that passes (degraded included) and 0 for one down, failing or too slow', async () => {
    const checks = new ReadinessChecks();
    checks.add('redis', (i) => i.check('redis').up());
    checks.add('subscriptions', (i) =>
      i
        .check('subscriptions')
        .down({ message: 'subscriber connection is not ready' }),
    );
    checks.add('redis-cluster', (i) => i.check('redis-cluster').degraded());
    checks.add('queues', () => {
      throw new Error('no queue');
    });
    checks.add('redis-failover', (i) =>
      i
        .check('redis-failover')
        .attempt(() => new Promise(() => {}))
        .withTimeout(20),
    );
    const registry = new Registry();
    registerReadinessMetrics(registry, checks, new HealthIndicatorService());

    const [metric] = (await registry.getMetricsAsJSON()).filter(
      (m) => m.name === 'podium_ready',
    );
    const values = Object.fromEntries(
      metric.values.map((v) => [v.labels.check, v.value]),
    );
    expect(values).toEqual({
      redis: 1,
      subscriptions: 0,
      'redis-cluster': 1,
      queues: 0,
      'redis-failover': 0,
    });
  });

  it('follows the checks from one scrape to the next', async () => {
    let up = false;
    const checks = new ReadinessChecks();
    checks.add('redis', (i) =>
      up ? i.check('redis').up() : i.check('redis').down(),
    );
    const registry = new Registry();
    registerReadinessMetrics(registry, checks, new HealthIndicatorService());

    expect(await registry.metrics()).toContain('podium_ready{check="redis"} 0');
    up = true;
    expect(await registry.metrics()).toContain('podium_ready{check="redis"} 1');
  });
});
