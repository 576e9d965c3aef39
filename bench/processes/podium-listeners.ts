/**
 * The bench's podium listeners process: apps/listeners/src/main.ts (the same
 * createListenersApplication, with HTTP for /health and /metrics on a free port), plus a
 * timestamp each time a listener's effects were applied (EffectApplier.apply resolved with
 * applied: true), sent to the bench over IPC. Started by the bench as a child process, so it
 * can be killed.
 */
import 'reflect-metadata';
import { validatePodiumEnv } from '@podium/config';
import { createListenersApplication, EffectApplier, ListenerRunner } from '@podium/delivery';
import { CustomerInvoicesModule, LISTENER_MODULES } from '@podium/listeners';
import { SlowInvoicesModule } from '../listeners/slow-invoices.js';
import { listenerNames } from '../lib/model.js';
import { childConfig, Sampler } from './sampler.js';

async function main(): Promise<void> {
  const config = childConfig();
  const env = validatePodiumEnv({ HEALTH_PORT: '0', ...config.env, REDIS_URL: config.redisUrl });
  const listeners = config.variant === 'slow' ? LISTENER_MODULES.map((m) => (m === CustomerInvoicesModule ? SlowInvoicesModule : m)) : LISTENER_MODULES;
  const { app, transport } = await createListenersApplication({ env, listeners });

  // Subscribed, but no order is published before this process says it is ready.
  const sampler = new Sampler(listenerNames(config.variant));
  const applier = app.get(EffectApplier);
  const apply = applier.apply.bind(applier);
  applier.apply = async (listener, orderId, effects) => {
    const result = await apply(listener, orderId, effects);
    if (result.applied) sampler.record(listener, orderId);
    return result;
  };
  // Messages taken and not yet finished (ephemeral handlers and enqueueing), for the backlog.
  const runner = app.get(ListenerRunner) as unknown as { inFlight: Set<unknown> };

  await app.listen(env.HEALTH_PORT, '127.0.0.1');
  sampler.start({
    pending: () => [runner.inFlight.size],
    reconnects: () => transport.reconnectCount,
    onStop: () => app.close(),
  });
}

main().catch((err: Error) => {
  console.error(`bench podium listeners: cannot start: ${err.stack ?? err.message}`);
  process.exit(1);
});
