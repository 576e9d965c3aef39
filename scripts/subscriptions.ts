/**
 * `npm run subscriptions -- list` shows the durable subscriptions registered in Redis (at
 * REDIS_URL) with their queue depths; `npm run subscriptions -- remove <listener>` removes
 * one: the box office stops queueing orders for it (jobs already queued stay in its queue).
 */
import { validatePodiumEnv } from '@podium/config';
import { ListenerQueues, readDurableSubscriptions, removeDurableSubscription } from '@podium/queues';
import { createRedis } from '@podium/redis';

async function main(): Promise<number> {
  const [command, listener] = process.argv.slice(2);
  const env = validatePodiumEnv(process.env);
  const redis = createRedis(env.REDIS_URL, 'podium-subscriptions-cli', { autoPipelining: false });
  const queues = new ListenerQueues(() => redis);
  try {
    if (command === 'list') {
      const subscriptions = await readDurableSubscriptions(redis);
      if (subscriptions.length === 0) console.log('No durable subscriptions.');
      for (const s of subscriptions.sort((a, b) => a.listener.localeCompare(b.listener))) {
        const counts = await queues.get(s.listener).getJobCounts('waiting', 'active', 'failed');
        console.log(
          `${s.listener.padEnd(28)} ${s.pattern.padEnd(36)} since ${new Date(s.since).toISOString()}  ` +
            `waiting ${counts.waiting}, active ${counts.active}, failed ${counts.failed}`,
        );
      }
      return 0;
    }
    if (command === 'remove' && listener) {
      const removed = await removeDurableSubscription(redis, listener);
      console.log(removed ? `Removed the durable subscription of ${listener}.` : `${listener} has no durable subscription.`);
      return removed ? 0 : 1;
    }
    console.error('usage: npm run subscriptions -- list | remove <listener>');
    return 2;
  } finally {
    await queues.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`subscriptions: ${err.message}`);
    process.exit(1);
  },
);
