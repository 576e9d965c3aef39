import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import { FailoverMonitor, METRICS_REGISTRY } from '../observability/index.js';
import {
  FailoverUnderWayError,
  ReplicaBarrier,
  UnreplicatedError,
  type RedisClient,
} from '@podium/redis';

/**
 * What of a recorded message is confirmed: its record (with its outbox entries), before
 * the answer; or its durable jobs, after it (unconfirmed, they are left to the relay).
 */
export type ReplicatedStage = 'record' | 'jobs';

/**
 * Failovers and REDIS_WAIT_REPLICAS for the publisher. While a failover is under way nothing
 * is written (beforeWrite); one that begins while a message is written fails its
 * confirmation, with any REDIS_WAIT_REPLICAS, 0 included. REDIS_WAIT_REPLICAS: the publisher
 * watches a connection before it writes and waits for the record's confirmation before it answers,
 * so with N > 0 recording a message succeeds only once N replicas have it (ReplicaBarrier:
 * WAIT, shared by concurrent records, not confirmed across a failover). Otherwise
 * UnreplicatedError (the box office answers 503, say): the message stands on the primary,
 * and a retry with the same Idempotency-Key is safe. Counted in
 * podium_purchases_unreplicated_total.
 */
@Injectable()
export class RecordReplication {
  private readonly barrier: ReplicaBarrier;
  private readonly unreplicated?: Counter<'stage' | 'reason'>;
  private readonly refused?: Counter;

  constructor(
    @Inject(PODIUM_SETTINGS) env: PodiumSettings,
    @Optional() failover?: FailoverMonitor,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    this.barrier = new ReplicaBarrier(
      env.REDIS_WAIT_REPLICAS,
      env.REDIS_WAIT_TIMEOUT_MS,
      failover,
    );
    if (registry)
      this.unreplicated = new Counter({
        name: 'podium_purchases_unreplicated_total',
        help: 'Purchases answered 503 because REDIS_WAIT_REPLICAS replicas did not confirm them, or a failover began while they were written (recorded on the primary), by stage (record) and reason.',
        labelNames: ['stage', 'reason'],
        registers: [registry],
      });
    if (registry)
      this.refused = new Counter({
        name: 'podium_purchases_refused_in_failover_total',
        help: 'Purchases answered 503 before anything was written because a failover of the primary was under way (Sentinel began one and the box office is not on the new primary yet).',
        registers: [registry],
      });
  }

  /**
   * Before anything is written: FailoverUnderWayError while a failover is under way, with
   * any REDIS_WAIT_REPLICAS (the primary being demoted would take the write and lose it).
   */
  beforeWrite(): void {
    if (!this.barrier.failingOver) return;
    this.refused?.inc();
    throw new FailoverUnderWayError();
  }

  /**
   * Before writing on `connection` (on a cluster, to the slot of `key`); `confirmed()`
   * after: for the record, before answering; for the jobs, before their outbox entries go.
   */
  watch(
    connection: RedisClient,
    stage: ReplicatedStage,
    key: string,
  ): { confirmed(): Promise<void> } {
    const written = this.barrier.watch(connection, [key]);
    return {
      confirmed: () =>
        written.confirmed().catch((err: unknown) => {
          // Only the record's is an answer: a job's is left to the relay (podium_orders_left_to_relay_total).
          if (err instanceof UnreplicatedError && stage === 'record')
            this.unreplicated?.inc({ stage, reason: err.reason });
          throw err;
        }),
    };
  }
}
