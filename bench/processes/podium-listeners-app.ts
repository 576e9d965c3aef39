/**
 * The bench's podium listeners process (started through podium-listeners.ts, which sets its
 * environment and tracing up first): apps/listeners/src/main.ts (the same
 * createListenersApplication, with HTTP for /health and /metrics on a free port) running
 * the seed's five listeners, plus a timestamp each time a listener's effects were applied
 * (podium's ListenerStats observer, called when the effects script answered), sent to the
 * bench over IPC. Started by the bench as a child process, so it can be killed.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  validatePodiumEnv,
  AnnouncementDispatcher,
  createListenersApplication,
  ListenerStats,
} from '@podium/core';
import { CustomerInvoicesModule, LISTENER_MODULES } from '@podium/listeners';
import { queueTelemetry, stopTracing } from '../../apps/tracing.js';
import { SlowInvoicesModule } from '../listeners/slow-invoices.js';
import { listenerNames } from '../lib/model.js';
import { childConfig, Sampler } from './sampler.js';

async function main(): Promise<void> {
  const config = childConfig();
  // The seed's five listeners, as the baselines run them: a listener added to the app since is hosted but not run,
  // so the bench measures the same workload whatever LISTENER_MODULES holds.
  const env = validatePodiumEnv({
    HEALTH_PORT: '0',
    LISTENERS: listenerNames(config.variant).join(','),
    ...config.env,
    REDIS_URL: config.redisUrl,
  });
  const listeners =
    config.variant === 'slow'
      ? LISTENER_MODULES.map((m) =>
          m === CustomerInvoicesModule ? SlowInvoicesModule : m,
        )
      : LISTENER_MODULES;
  const { app, transport } = await createListenersApplication({
    env,
    listeners,
    queueTelemetry: queueTelemetry(),
  });

  // Subscribed, but no order is published before this process says it is ready.
  const sampler = new Sampler(listenerNames(config.variant));
  app.get(ListenerStats).observe((listener, orderId, outcome) => {
    if (outcome === 'applied') sampler.record(listener, orderId);
  });
  // Announcements taken and not yet finished (ephemeral: handled; queued, durable: enqueued), for the backlog.
  const dispatcher = app.get(AnnouncementDispatcher);

  await app.listen(env.HEALTH_PORT, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  sampler.start({
    httpPort: port,
    pending: () => [dispatcher.size],
    reconnects: () => transport.reconnectCount,
    onStop: async () => {
      await app.close();
      await stopTracing();
    },
  });
}

main().catch((err: Error) => {
  console.error(
    `bench podium listeners: cannot start: ${err.stack ?? err.message}`,
  );
  process.exit(1);
});
