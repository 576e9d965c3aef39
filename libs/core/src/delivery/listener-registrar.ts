import {
  Inject,
  Injectable,
  Logger,
  Scope,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import {
  DiscoveryService,
  ExternalContextCreator,
  MetadataScanner,
  Reflector,
} from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { readDurableSubscriptions, recordListeners } from '../queues/index.js';
import { REDIS, type RedisClient } from '@podium/redis';
import { AnnouncementDispatcher } from './announcements/announcement-dispatcher.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';
import type { Effects } from './effects/effects.js';
import {
  planGroups,
  type ListenerContext,
  type ListenerDefinition,
  type ListenerGroup,
  type RunningListener,
} from './listener-group.js';
import { escapeGlob } from '../messages/index.js';
import { ON_MESSAGE, type OnMessageMetadata } from './on-message.decorator.js';
import { AnnouncementTransport } from './announcements/announcement-transport.js';
import { DeliveryStrategies } from './strategies/delivery-strategies.js';

/**
 * Finds every @OnMessage method at start-up, plans the groups this process runs (see
 * planGroups) and binds each group to its delivery and its patterns to the transport.
 * Wiring mistakes stop start-up with one clear line: two handlers claiming one listener
 * name, a handler on a request-scoped or transient provider, a LISTENERS entry or a
 * variable that names no listener, a group mixing modes.
 */
@Injectable()
export class ListenerRegistrar
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('Listeners');
  private planned: ListenerGroup[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly contexts: ExternalContextCreator,
    private readonly strategies: DeliveryStrategies,
    private readonly dispatcher: AnnouncementDispatcher,
    private readonly transport: AnnouncementTransport,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
  ) {}

  /** The groups this process runs. */
  get groups(): readonly ListenerGroup[] {
    return this.planned;
  }

  /** The listeners this process runs, with their delivery modes and groups. */
  get active(): RunningListener[] {
    return this.planned.flatMap((g) => g.listeners);
  }

  onModuleInit(): void {
    this.planned = planGroups(this.discover(), this.options);
    // One transport handler per pattern: it hands the message to every group with members on it.
    const byPattern = new Map<
      string,
      { group: ListenerGroup; listeners: RunningListener[] }[]
    >();
    for (const group of this.planned) {
      const strategy = this.strategies.for(group.mode);
      strategy.bind?.(group);
      for (const pattern of new Set(group.listeners.map((l) => l.pattern))) {
        const bindings = byPattern.get(pattern) ?? [];
        bindings.push({
          group,
          listeners: group.listeners.filter((l) => l.pattern === pattern),
        });
        byPattern.set(pattern, bindings);
      }
      this.logger.log(
        `group ${group.name} (${group.mode}): ${group.listeners.map((l) => `${l.name} on ${l.pattern}`).join(', ')}`,
      );
    }
    for (const [pattern, bindings] of byPattern) {
      const targets = bindings.map((b) => ({
        ...b,
        strategy: this.strategies.for(b.group.mode),
      }));
      this.transport.addHandler(
        pattern,
        (payload: unknown) => {
          for (const t of targets)
            this.dispatcher.heard(t.group, t.strategy, t.listeners, payload);
          return Promise.resolve();
        },
        true,
      );
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const startedAt = Date.now();
    await recordListeners(
      this.redis,
      this.planned.flatMap((group) =>
        group.listeners.map(({ name, mode, pattern }) => ({
          name,
          mode,
          group: group.name,
          pattern,
          queue: this.strategies.for(mode).queueOf(group),
          startedAt,
        })),
      ),
    );
    for (const strategy of this.strategies.all()) await strategy.start?.();
    for (const subscription of await readDurableSubscriptions(this.redis)) {
      const moved = this.active.filter(
        (l) =>
          subscription.listeners.includes(l.name) &&
          l.group !== subscription.group,
      );
      for (const listener of moved) {
        this.logger.warn(
          `${listener.name} runs in group ${listener.group} but is still in the durable subscription of group ` +
            `${subscription.group}: the publisher keeps queueing messages there. ` +
            `Remove it with: npm run subscriptions -- remove ${subscription.group}`,
        );
      }
    }
  }

  /**
   * SIGTERM: stop listening (a hybrid app would close the transport only after this hook),
   * finish what was taken, then stop the workers.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.transport.close();
    await this.dispatcher.drain();
    for (const strategy of this.strategies.all()) await strategy.close?.();
  }

  /**
   * The handler, called through Nest's context as a microservice handler is (context type
   * 'rpc'): the interceptors, guards and exception filters bound to it, to its class or
   * globally apply to it. They see the handler's call: its message and what it returns (the
   * effects), not the script that applies them later with the batch's.
   */
  private throughNest(
    instance: Record<string, Handler>,
    method: string,
  ): Handler {
    return this.contexts.create(
      instance,
      instance[method] as (...args: unknown[]) => unknown,
      method,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'rpc',
    ) as Handler;
  }

  private discover(): ListenerDefinition[] {
    const byName = new Map<string, ListenerDefinition>();
    for (const wrapper of this.discovery.getProviders()) {
      const prototype = classPrototype(wrapper);
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const meta = this.reflector.get<OnMessageMetadata | undefined>(
          ON_MESSAGE,
          prototype[method] as () => unknown,
        );
        if (!meta) continue;
        const where = `${String(wrapper.name)}.${method}`;
        const scope = notSingleton(wrapper);
        if (scope)
          throw new Error(
            `@OnMessage on ${where} (listener "${meta.listener}"): ${String(wrapper.name)} is ${scope}, but a listener ` +
              'is bound once at start-up to one instance for the whole process; make it a default (singleton) provider',
          );
        if (byName.has(meta.listener))
          throw new Error(
            `Two handlers claim listener "${meta.listener}"; listener names must be unique`,
          );
        const instance = wrapper.instance as Record<string, Handler>;
        byName.set(meta.listener, {
          name: meta.listener,
          type: meta.type,
          pattern:
            meta.channel !== undefined
              ? escapeGlob(meta.channel)
              : meta.pattern!,
          oneSlot: meta.oneSlot,
          mode: meta.mode,
          handle: this.throughNest(instance, method),
        });
      }
    }
    return [...byName.values()];
  }
}

type Handler = (
  message: unknown,
  context: ListenerContext,
) => Effects | null | Promise<Effects | null>;

/** The prototype whose methods a provider's instances have: of its instance, or of its class. */
function classPrototype(
  wrapper: InstanceWrapper,
): Record<string, unknown> | undefined {
  const instance: unknown = wrapper.instance;
  if (instance && typeof instance === 'object')
    return Object.getPrototypeOf(instance) as Record<string, unknown>;
  const metatype: unknown = wrapper.metatype;
  return typeof metatype === 'function' && !wrapper.inject
    ? (metatype.prototype as Record<string, unknown>)
    : undefined;
}

/** Why a provider is not one instance for the whole process, if it is not. */
function notSingleton(wrapper: InstanceWrapper): string | undefined {
  if (wrapper.isTransient) return 'transient';
  if (wrapper.scope === Scope.REQUEST) return 'request-scoped';
  if (!wrapper.isDependencyTreeStatic())
    return 'request-scoped through what it injects';
  return undefined;
}
