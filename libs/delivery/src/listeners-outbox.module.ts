import { OutboxModule } from '@podium/publisher';
import { ListenerRegistrar } from './listener-registrar.js';

/**
 * The outbox relay in a listeners process, on while the process runs a durable group: its
 * listeners are the ones waiting for orders a dead box office recorded without announcing,
 * so they are re-driven even when no box office runs. (A process with only ephemeral or
 * queued listeners leaves it to the others.)
 */
export const ListenersOutboxModule = OutboxModule.forRoot({
  enabled: {
    inject: [ListenerRegistrar],
    useFactory: (registrar: ListenerRegistrar) => () =>
      registrar.groups.some((group) => group.mode === 'durable'),
  },
});
