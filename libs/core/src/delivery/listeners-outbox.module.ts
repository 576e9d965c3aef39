import { OutboxModule } from '../publisher/index.js';
import { ListenerRegistrar } from './listener-registrar.js';
import { DeliveryStrategies } from './strategies/delivery-strategies.js';

/**
 * The outbox relay in a listeners process, on while the process runs a group with a queue
 * (queued or durable): its claims, and the jobs of durable orders a dead box office
 * recorded without queueing them, are queued even when no box office runs. (A process
 * with only ephemeral listeners leaves it to the others.)
 */
export const ListenersOutboxModule = OutboxModule.forRoot({
  enabled: {
    inject: [ListenerRegistrar, DeliveryStrategies],
    useFactory:
      (registrar: ListenerRegistrar, strategies: DeliveryStrategies) => () =>
        registrar.groups.some(
          (group) => strategies.for(group.mode).queueOf(group) !== null,
        ),
  },
});
