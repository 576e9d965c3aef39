/**
 * `npm run subscriptions -- list` shows the durable subscriptions registered in Redis (at
 * REDIS_URL, or the primary of REDIS_SENTINELS), one per listener group, with their queue
 * depths; `npm run subscriptions -- remove <group>` removes one: the box office stops
 * queueing orders for it (jobs already queued stay in its queue).
 */
import {
  validatePodiumEnv,
  GroupQueues,
  readDurableSubscriptions,
  removeDurableSubscription,
} from '@podium/core';
import { createRedis } from '@podium/redis';

async function main(): Promise<number> {
  const [command, group] = process.argv.slice(2);
  const env = validatePodiumEnv(process.env);
  const redis = createRedis(env.redisTarget, 'podium-subscriptions-cli', {
    autoPipelining: false,
  });
  const queues = new GroupQueues(() => redis);
  try {
    if (command === 'list') {
      const subscriptions = await readDurableSubscriptions(redis);
      if (subscriptions.length === 0) console.log('No durable subscriptions.');
      for (const s of subscriptions.sort((a, b) =>
        a.group.localeCompare(b.group),
      )) {
        const counts = await queues
          .get(s.group)
          .getJobCounts('waiting', 'active', 'failed');
        console.log(
          `${s.group.padEnd(20)} since ${new Date(s.since).toISOString()}  ` +
            `waiting ${counts.waiting}, active ${counts.active}, failed ${counts.failed}\n` +
            `  listeners: ${s.listeners.join(', ')}\n  patterns:  ${s.patterns.join(', ')}`,
        );
      }
      return 0;
    }
    if (command === 'remove' && group) {
      const removed = await removeDurableSubscription(redis, group);
      console.log(
        removed
          ? `Removed the durable subscription of group ${group}.`
          : `Group ${group} has no durable subscription.`,
      );
      return removed ? 0 : 1;
    }
    console.error('usage: npm run subscriptions -- list | remove <group>');
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
