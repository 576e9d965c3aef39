import type { Queue } from 'bullmq';
import type { RedisClient } from '@podium/redis';
import { Gauge, type Registry } from 'prom-client';

export interface QueueSnapshotSource {
  /** The connection the queues use: when it is not ready, nothing is asked (a scrape must not hang). */
  connection(): RedisClient | undefined;
  /** The queues to report, by name (a listener group's queue is named after the group). */
  queues(): Promise<{ name: string; queue: Queue }[]>;
}

interface QueueSnapshot {
  name: string;
  counts: Record<string, number>;
  oldestWaitingAgeSeconds: number;
}

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
const TIMEOUT_MS = 1000;

/**
 * Queue depth and the age of the oldest waiting job, per listener group queue, read from Redis
 * when Prometheus scrapes (one snapshot shared by both gauges), never on the hot path.
 * When Redis does not answer within a second the series are left out of that scrape.
 */
export function registerQueueMetrics(
  registry: Registry,
  source: QueueSnapshotSource,
): void {
  let pending: Promise<QueueSnapshot[]> | undefined;
  // Both gauges' collect() run within one scrape: they share one read.
  const snapshot = (): Promise<QueueSnapshot[]> => {
    pending ??= read(source).finally(() =>
      setTimeout(() => (pending = undefined), 100).unref(),
    );
    return pending;
  };
  new Gauge({
    name: 'podium_queue_jobs',
    help: "Jobs in a listener group's queue, by state (waiting, active, delayed, failed).",
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const snapshots = await snapshot();
      this.reset();
      for (const { name, counts } of snapshots) {
        for (const state of STATES)
          this.set({ queue: name, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'podium_queue_oldest_waiting_job_age_seconds',
    help: "Age of the oldest job waiting in a listener group's queue; 0 when none waits.",
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const snapshots = await snapshot();
      this.reset();
      for (const { name, oldestWaitingAgeSeconds } of snapshots)
        this.set({ queue: name }, oldestWaitingAgeSeconds);
    },
  });
}

async function read(source: QueueSnapshotSource): Promise<QueueSnapshot[]> {
  const connection = source.connection();
  if (connection && connection.status !== 'ready') return [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<QueueSnapshot[]>(
    (resolve) => (timer = setTimeout(() => resolve([]), TIMEOUT_MS)),
  );
  const reading = (async () => {
    const queues = await source.queues();
    return Promise.all(
      queues.map(async ({ name, queue }) => {
        const [counts, [oldest]] = await Promise.all([
          queue.getJobCounts(...STATES),
          queue.getJobs(['wait'], 0, 0, true),
        ]);
        const age = oldest
          ? Math.max(0, (Date.now() - oldest.timestamp) / 1000)
          : 0;
        return { name, counts, oldestWaitingAgeSeconds: age };
      }),
    );
  })().catch(() => [] as QueueSnapshot[]);
  try {
    return await Promise.race([reading, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
