import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { escapeGlob, type Order } from '@podium/orders';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';
import type { Effects } from './effects.js';
import { ListenerRunner, type ListenerDefinition } from './listener-runner.js';
import { ON_PURCHASE, type OnPurchaseOptions } from './on-purchase.decorator.js';
import { PurchaseTransport } from './purchase-transport.js';

/**
 * Finds every @OnPurchase method at start-up and binds the listeners this process runs to
 * the Redis transport. Wiring mistakes stop start-up with one clear line: two handlers
 * claiming one listener name, or a LISTENERS entry that names no listener.
 */
@Injectable()
export class ListenerRegistrar implements OnModuleInit {
  private readonly logger = new Logger('Listeners');
  private found: ListenerDefinition[] = [];
  private running: ListenerDefinition[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly runner: ListenerRunner,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
    @Optional() private readonly transport?: PurchaseTransport,
  ) {}

  /** Every listener this app hosts, whether this process runs it or not. */
  get hosted(): readonly ListenerDefinition[] {
    return this.found;
  }

  /** The listeners this process runs. */
  get active(): readonly ListenerDefinition[] {
    return this.running;
  }

  onModuleInit(): void {
    this.found = this.discover();
    this.running = this.select(this.found);
    if (!this.transport) return;
    // One handler per pattern, fanning out to its listeners: the transport keeps one handler
    // per pattern (Nest chains same-pattern handlers only for @EventPattern controllers).
    const byPattern = Map.groupBy(this.running, (listener) => listener.pattern);
    for (const [pattern, listeners] of byPattern) {
      this.transport.addHandler(
        pattern,
        (payload: unknown) => Promise.all(listeners.map((listener) => this.runner.processOnce(listener, payload))),
        true,
      );
      this.logger.log(`${listeners.map((l) => l.name).join(', ')} subscribe to ${pattern}`);
    }
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
