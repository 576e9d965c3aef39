import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { withLogContext } from '@podium/observability';
import { escapeGlob, isPlausibleOrderId, type Order } from '@podium/orders';
import { announceListeners, deliveryVariable, readDurableSubscriptions, type DeliveryMode } from '@podium/queues';
import { REDIS } from '@podium/redis';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';
import type { Effects } from './effects.js';
import { ListenerRunner, type ListenerDefinition } from './listener-runner.js';
import { ON_PURCHASE, type OnPurchaseOptions } from './on-purchase.decorator.js';
import { PurchaseTransport } from './purchase-transport.js';
import { QueuedDelivery } from './queued-delivery.js';

export interface RunningListener extends ListenerDefinition {
  mode: DeliveryMode;
}

/**
 * Finds every @OnPurchase method at start-up and binds each listener this process runs to
 * the delivery its configuration asks for. Wiring mistakes stop start-up with one clear
 * line: two handlers claiming one listener name, a LISTENERS entry or a DELIVERY_<NAME>
 * variable that names no listener.
 */
@Injectable()
export class ListenerRegistrar implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Listeners');
  private running: RunningListener[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly runner: ListenerRunner,
    private readonly queued: QueuedDelivery,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
    @Optional() private readonly transport?: PurchaseTransport,
    @Optional() private readonly metrics?: DeliveryMetrics,
  ) {}

  /** The listeners this process runs, with their delivery modes. */
  get active(): readonly RunningListener[] {
    return this.running;
  }

  onModuleInit(): void {
    const found = this.discover();
    this.checkModeVariables(found);
    this.running = this.select(found).map((listener) => ({ ...listener, mode: this.modeOf(listener) }));
    if (!this.transport) return;
    // One handler per pattern, fanning out to its listeners: the transport keeps one handler
    // per pattern (Nest chains same-pattern handlers only for @EventPattern controllers).
    const byPattern = Map.groupBy(this.running, (listener) => listener.pattern);
    for (const [pattern, listeners] of byPattern) {
      this.transport.addHandler(pattern, (payload: unknown) => Promise.all(listeners.map((l) => this.deliver(l, payload))), true);
      this.logger.log(`${listeners.map((l) => `${l.name} (${l.mode})`).join(', ')} subscribe to ${pattern}`);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const startedAt = Date.now();
    await announceListeners(
      this.redis,
      this.running.map(({ name, mode, pattern }) => ({ name, mode, pattern, startedAt })),
    );
    for (const listener of this.running) {
      if (listener.mode !== 'ephemeral') this.queued.startWorker(listener);
    }
    const durable = new Set((await readDurableSubscriptions(this.redis)).map((s) => s.listener));
    for (const listener of this.running.filter((l) => l.mode === 'ephemeral' && durable.has(l.name))) {
      this.logger.warn(
        `${listener.name} runs ephemeral but holds a durable subscription: the box office still queues its orders. ` +
          `Remove it with: npm run subscriptions -- remove ${listener.name}`,
      );
    }
  }

  /**
   * SIGTERM: stop listening (a hybrid app would close the transport only after this hook),
   * finish what was taken, then stop the workers.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.transport?.close();
    await this.runner.drain();
    await this.queued.close();
  }

  private deliver(listener: RunningListener, payload: unknown): Promise<unknown> {
    this.metrics?.messageReceived(listener.name, listener.mode);
    const id = typeof payload === 'string' ? payload : String(payload);
    return withLogContext({ listener: listener.name, ...(isPlausibleOrderId(id) && { orderId: id }) }, () => {
      if (listener.mode === 'ephemeral') return this.runner.processOnce(listener, payload);
      return this.runner.track(this.queued.onMessage(listener, payload));
    });
  }

  private modeOf(listener: ListenerDefinition): DeliveryMode {
    return this.options.modeOverrides[deliveryVariable(listener.name)] ?? this.options.defaultMode;
  }

  private discover(): ListenerDefinition[] {
    const byName = new Map<string, ListenerDefinition>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const handler = instance[method] as (order: Order) => Effects | null | Promise<Effects | null>;
        const meta = this.reflector.get<OnPurchaseOptions | undefined>(ON_PURCHASE, handler);
        if (!meta) continue;
        if (byName.has(meta.listener)) {
          throw new Error(`Two handlers claim listener "${meta.listener}"; listener names must be unique`);
        }
        byName.set(meta.listener, {
          name: meta.listener,
          pattern: meta.channel !== undefined ? escapeGlob(meta.channel) : meta.pattern!,
          handle: (order) => handler.call(instance, order),
        });
      }
    }
    return [...byName.values()];
  }

  private checkModeVariables(found: ListenerDefinition[]): void {
    const known = new Set(found.map((l) => deliveryVariable(l.name)));
    const unknown = Object.keys(this.options.modeOverrides).filter((variable) => !known.has(variable));
    if (unknown.length > 0) {
      throw new Error(`${unknown.join(', ')} names no listener; known: ${[...known].join(', ')}`);
    }
  }

  private select(found: ListenerDefinition[]): ListenerDefinition[] {
    const wanted = this.options.listeners;
    if (!wanted) return found;
    const unknown = wanted.filter((name) => !found.some((l) => l.name === name));
    if (unknown.length > 0) {
      throw new Error(
        `LISTENERS names unknown listener(s): ${unknown.join(', ')}; known: ${found.map((l) => l.name).join(', ')}`,
      );
    }
    return found.filter((l) => wanted.includes(l.name));
  }
}
