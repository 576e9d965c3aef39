import type { JobType } from 'bullmq';
import { GroupQueues, jobMessageIds } from '@podium/core';
import type { PrivateRedis } from '@podium/testing';

const EVERY_STATE: JobType[] = [
  'completed',
  'waiting',
  'active',
  'delayed',
  'failed',
  'prioritized',
];

/** How many of a group queue's jobs carry each order, whatever their state (completed ones are kept up to a thousand). */
export async function queuedOrders(
  server: PrivateRedis,
  group: string,
): Promise<Map<string, number>> {
  const queues = new GroupQueues(() => server.client());
  try {
    const jobs = await queues.get(group).getJobs(EVERY_STATE);
    const counts = new Map<string, number>();
    for (const job of jobs)
      for (const id of jobMessageIds(job.data))
        counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  } finally {
    await queues.close();
  }
}
