import {
  deliveryVariable,
  groupVariable,
  listenerOfVariable,
  type DeliveryMode,
} from '../config/index.js';
import type { AnyMessageType } from '../messages/index.js';
import type { Effects } from './effects/effects.js';

/**
 * What a listener's interceptors and guards see of the call besides the message, as Nest
 * microservice handlers do: `context.switchToRpc().getData()` is the message,
 * `context.switchToRpc().getContext()` this.
 */
export interface ListenerContext {
  listener: string;
  mode: DeliveryMode;
  group: string;
  pattern: string;
}

/** A listener as the registrar found it: its name, what it subscribes to, its handler. */
export interface ListenerDefinition {
  name: string;
  /** The type of the messages it handles (see OnMessage). */
  type: AnyMessageType;
  /** The PSUBSCRIBE pattern (an exact channel arrives here glob-escaped). */
  pattern: string;
  /** On a cluster, its keys stay in one slot (see OnMessage). */
  oneSlot?: boolean;
  /** Its mode when the configuration names none for it (see OnMessage). */
  mode?: DeliveryMode;
  handle(
    message: unknown,
    context: ListenerContext,
  ): Effects | null | Promise<Effects | null>;
}

/** A listener as this process runs it: in a mode and a group, its handler given its context. */
export interface RunningListener {
  name: string;
  type: AnyMessageType;
  pattern: string;
  oneSlot: boolean;
  mode: DeliveryMode;
  group: string;
  handle(message: unknown): Effects | null | Promise<Effects | null>;
}

/**
 * Listeners that share one unit of work per message: the message is loaded once, every
 * member's handler runs, and all their effects are applied in one script (and, for a
 * queued or durable group, one job per message). All members share one delivery mode and
 * one message type.
 */
export interface ListenerGroup {
  name: string;
  mode: DeliveryMode;
  type: AnyMessageType;
  listeners: RunningListener[];
}

export interface GroupingOptions {
  /** Listener names this process runs; undefined runs every listener it hosts. */
  listeners?: string[];
  defaultMode: DeliveryMode;
  /** Per-listener modes by variable name: { DELIVERY_SALES_HISTOGRAM: 'durable' }. */
  modeOverrides: Record<string, DeliveryMode>;
  /** Per-listener groups by variable name: { DELIVERY_GROUP_SLOW_INVOICES: 'slow' }. */
  groupOverrides: Record<string, string>;
}

/**
 * Which listeners this process runs, in which mode and group. A listener's mode is
 * DELIVERY_<NAME>, else the one its decorator names, else DELIVERY; its group is DELIVERY_GROUP_<NAME> or, by default, the
 * name of its mode, so a process runs one group per mode. Throws one line naming the
 * culprit for a variable or LISTENERS entry that names no listener, and for a group whose
 * members would be delivered in different modes or handle different message types.
 */
export function planGroups(
  found: ListenerDefinition[],
  options: GroupingOptions,
): ListenerGroup[] {
  const known = new Map(found.map((l) => [l.name, l]));
  for (const [overrides, variable, option] of [
    [options.modeOverrides, deliveryVariable, 'modes'],
    [options.groupOverrides, groupVariable, 'groups'],
  ] as const) {
    const names = new Set(found.map((l) => variable(l.name)));
    const unknown = Object.keys(overrides).filter((v) => !names.has(v));
    // Named both ways: as PodiumModule's option and as the podium apps' variable.
    const named = unknown.map(
      (v) => `delivery.${option}["${listenerOfVariable(v)}"] (${v})`,
    );
    if (unknown.length > 0)
      throw new Error(
        `${named.join(', ')} names no listener; known: ${[...known.keys()].join(', ')}`,
      );
  }
  const wanted = options.listeners;
  const unknown = wanted?.filter((name) => !known.has(name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `delivery.only (LISTENERS) names unknown listener(s): ${unknown.join(', ')}; known: ${[...known.keys()].join(', ')}`,
    );
  }

  const groups = new Map<string, ListenerGroup>();
  for (const listener of found) {
    if (wanted && !wanted.includes(listener.name)) continue;
    const mode =
      options.modeOverrides[deliveryVariable(listener.name)] ??
      listener.mode ??
      options.defaultMode;
    const name = options.groupOverrides[groupVariable(listener.name)] ?? mode;
    let group = groups.get(name);
    if (!group)
      groups.set(
        name,
        (group = { name, mode, type: listener.type, listeners: [] }),
      );
    if (group.mode !== mode) {
      const other = group.listeners[0];
      throw new Error(
        `group "${name}" would mix delivery modes: ${other.name} is ${other.mode}, ${listener.name} is ${mode}; ` +
          `give one of them a group of its own (${groupVariable(listener.name)})`,
      );
    }
    if (group.type !== listener.type) {
      const other = group.listeners[0];
      throw new Error(
        `group "${name}" would mix message types: ${other.name} handles ${other.type.name}, ${listener.name} ` +
          `${listener.type.name}; give one of them a group of its own (${groupVariable(listener.name)})`,
      );
    }
    const context: ListenerContext = {
      listener: listener.name,
      mode,
      group: name,
      pattern: listener.pattern,
    };
    group.listeners.push({
      name: listener.name,
      type: listener.type,
      pattern: listener.pattern,
      oneSlot: listener.oneSlot ?? false,
      mode,
      group: name,
      handle: (message) => listener.handle(message, context),
    });
  }
  return [...groups.values()];
}
