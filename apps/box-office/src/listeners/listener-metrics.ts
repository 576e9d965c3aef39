import {
  Inject,
  Injectable,
  Optional,
  type OnModuleInit,
} from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@podium/core';
import { ListenersService } from './listeners.service.js';

const TIMEOUT_MS = 1000;

/**
 * podium_listener_orders{listener, kind}: every listener's counters across processes
 * (announced, applied, skipped, rejected, failed) and what they add up to (lag, lost), read
 * from Redis when Prometheus scrapes. A scrape Redis does not answer within a second leaves
 * them out.
 */
@Injectable()
export class ListenerMetrics implements OnModuleInit {
  constructor(
    private readonly listeners: ListenersService,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
  ) {}

  onModuleInit(): void {
    if (!this.registry) return;
    const listeners = this.listeners;
    new Gauge({
      name: 'podium_listener_orders',
      help:
        'Orders per listener, across processes, by kind: announced by the box office, applied, skipped (not for it), rejected, ' +
        'failed (in its failed set), lag (announced, not yet accounted for) and lost (will not be applied unless retried).',
      labelNames: ['listener', 'kind'],
      registers: [this.registry],
      async collect() {
        let timer: NodeJS.Timeout | undefined;
        const statuses = await Promise.race([
          listeners.list().catch(() => []),
          new Promise<[]>(
            (resolve) => (timer = setTimeout(() => resolve([]), TIMEOUT_MS)),
          ),
        ]).finally(() => clearTimeout(timer));
        this.reset();
        for (const s of statuses) {
          const { announced, applied, skipped, rejected, failed } = s.counts;
          const kinds = {
            announced,
            applied,
            skipped,
            rejected,
            failed,
            lag: s.lag,
            lost: s.lost,
          };
          for (const [kind, value] of Object.entries(kinds))
            this.set({ listener: s.name, kind }, value);
        }
      },
    });
  }
}
