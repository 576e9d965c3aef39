import type { DeliveryMode } from '@podium/queues';

export const DELIVERY_OPTIONS = Symbol('DELIVERY_OPTIONS');

export interface QueueSettings {
  concurrency: number;
  attempts: number;
  backoffMs: number;
  lockMs: number;
  stalledCheckMs: number;
}

export interface DeliveryOptions {
  redisUrl: string;
  /** Listener names this process runs; undefined runs every listener it hosts. */
  listeners?: string[];
  defaultMode: DeliveryMode;
  /** Per-listener modes by variable name: { DELIVERY_SALES_HISTOGRAM: 'durable' }. */
  modeOverrides: Record<string, DeliveryMode>;
  queue: QueueSettings;
  appliedMarkerTtlSeconds: number;
}
