/**
 * What every part of the bench agrees on: the events, the customers, the listener names,
 * the systems under test and the IPC messages between the bench and a listeners process.
 */
import type { DeliveryMode } from '@podium/core';
import { SEED_LISTENERS, seedListenersFor } from '@podium/orders';

export const EVENTS = [
  'Womens Judo',
  'Mens 4x400',
  'Opening Ceremony',
  'Closing Ceremony',
] as const;
/** Price of a ticket, in the events' hashes; every order buys one ticket (see README: verification). */
export const PRICE = 20;
export const CUSTOMERS = Array.from(
  { length: 50 },
  (_, i) => `fan-${String(i).padStart(2, '0')}`,
);

/** Scenario 4: customer-invoices' effect, 20 ms late. */
export const SLOW_LISTENER = 'slow-invoices';
export const SLOW_LISTENER_MS = 20;
/** Every system keeps every alert, so the alerts list can be checked order by order. */
export const BENCH_ALERTS_MAX = 1_000_000;

export type Variant = 'standard' | 'slow';

/** The seed's five listeners (SEED_LISTENERS), the slow variant's invoices late. */
export function listenerNames(variant: Variant): string[] {
  return SEED_LISTENERS.map((name) => slowIfAsked(name, variant));
}

/** The listeners that act on an order of this event. */
export function listenersFor(event: string, variant: Variant): string[] {
  return seedListenersFor(event).map((name) => slowIfAsked(name, variant));
}

function slowIfAsked(name: string, variant: Variant): string {
  return variant === 'slow' && name === 'customer-invoices'
    ? SLOW_LISTENER
    : name;
}

export type SystemKind = 'podium' | 'seed' | 'nest' | 'bullmq' | 'streams';

export interface SystemSpec {
  /** Short id used in file names and JSON. */
  id: string;
  label: string;
  kind: SystemKind;
  /** podium only: DELIVERY and DELIVERY_<NAME> overrides. */
  mode?: DeliveryMode;
  overrides?: Record<string, DeliveryMode>;
  /**
   * podium only: traced at 100% sampling (OpenTelemetry, OTLP over HTTP to a receiver that
   * keeps nothing): the listeners process, the box office, and the bench's publisher.
   */
  traced?: boolean;
}

export const SEED: SystemSpec = {
  id: 'seed',
  label: 'baseline (a): seed on raw ioredis',
  kind: 'seed',
};
export const NEST: SystemSpec = {
  id: 'nest',
  label: 'baseline (b): plain Nest Redis transport',
  kind: 'nest',
};
export const BULLMQ: SystemSpec = {
  id: 'bullmq',
  label: 'baseline (c): a BullMQ queue per listener',
  kind: 'bullmq',
};
export const STREAMS: SystemSpec = {
  id: 'streams',
  label: 'baseline (d): Redis Streams, exactly once',
  kind: 'streams',
};
/** Baselines (c) and (d) are durable: the bench's publisher enqueues for them (lib/driver.ts). */
export const BASELINES = [SEED, NEST, BULLMQ, STREAMS];
export const EPHEMERAL: SystemSpec = {
  id: 'ephemeral',
  label: 'podium ephemeral',
  kind: 'podium',
  mode: 'ephemeral',
};
export const QUEUED: SystemSpec = {
  id: 'queued',
  label: 'podium queued',
  kind: 'podium',
  mode: 'queued',
};
export const DURABLE: SystemSpec = {
  id: 'durable',
  label: 'podium durable',
  kind: 'podium',
  mode: 'durable',
};
export const MIXED: SystemSpec = {
  id: 'mixed',
  label: 'podium mixed (slow-invoices durable, others ephemeral)',
  kind: 'podium',
  mode: 'ephemeral',
  overrides: { DELIVERY_SLOW_INVOICES: 'durable' },
};
/**
 * The HTTP scenario's baseline: a bare NestJS purchase endpoint (baselines/bare-purchase-app.ts)
 * in place of podium's box office, with podium's ephemeral listeners applying its orders.
 */
export const BARE: SystemSpec = {
  id: 'bare',
  label: 'bare NestJS endpoint (podium ephemeral listeners)',
  kind: 'podium',
  mode: 'ephemeral',
};
export const PODIUM_MODES = [EPHEMERAL, QUEUED, DURABLE];
export const ALL_SYSTEMS = [...BASELINES, ...PODIUM_MODES];
/** The cost of tracing: podium's ephemeral and durable modes again, every trace exported. */
export const EPHEMERAL_TRACED: SystemSpec = {
  ...EPHEMERAL,
  id: 'ephemeral-traced',
  label: 'podium ephemeral, traced',
  traced: true,
};
export const DURABLE_TRACED: SystemSpec = {
  ...DURABLE,
  id: 'durable-traced',
  label: 'podium durable, traced',
  traced: true,
};
export const TRACED_SYSTEMS = [EPHEMERAL_TRACED, DURABLE_TRACED];

/** Passed to a listeners process as BENCH_CHILD (JSON). */
export interface ChildConfig {
  redisUrl: string;
  variant: Variant;
  /** podium's environment (DELIVERY, DELIVERY_<NAME>, ALERTS_MAX...). */
  env: Record<string, string>;
}

/** Child -> bench, every 200 ms and on request. */
export interface SamplesMessage {
  type: 'samples';
  /** Index into the listener names of the variant, one per sample. */
  l: Uint8Array;
  /** Order ids, comma-joined. */
  ids: string;
  /** Epoch milliseconds (performance.timeOrigin + performance.now()) when the effect was applied. */
  t: Float64Array;
  /** Cumulative effects applied by this process, per listener. */
  applied: number[];
  /** Messages this process holds and has not finished, per listener (baselines), or in all (podium). */
  pending: number[];
  /** Reconnects of subscriber connections so far. */
  reconnects: number;
  /** Handler errors so far. */
  errors: number;
  /** process.memoryUsage() of the listeners process, MB: V8 heap used and reserved, and RSS. */
  heapUsedMb: number;
  heapTotalMb: number;
  /** Sequence number of the last flush request this message answers, if any. */
  flush?: number;
}

export type ChildMessage =
  /** httpPort: where a podium listeners process serves /health and /metrics. */
  { type: 'ready'; startedMs: number; httpPort?: number } | SamplesMessage;
export type ParentMessage = { type: 'flush'; seq: number } | { type: 'stop' };

/**
 * Node flags podium's apps run with (package.json's start scripts, the Dockerfile): a bound
 * on V8's old space, without which garbage piles up to several hundred MB under load, and
 * the young generation's default size, which the bound alone would shrink (docs/operations.md).
 */
export const PODIUM_NODE_FLAGS = [
  '--max-old-space-size=192',
  '--max-semi-space-size=16',
];
