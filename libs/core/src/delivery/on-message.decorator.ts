import { SetMetadata } from '@nestjs/common';
import { isDeliveryMode, type DeliveryMode } from '../config/index.js';
import type { AnyMessageType } from '../messages/index.js';

export const ON_MESSAGE = 'podium:on-message';

export type OnMessageOptions = (
  | { listener: string; channel: string; pattern?: never }
  | { listener: string; pattern: string; channel?: never }
) & {
  /**
   * On a Redis Cluster, keep this listener's keys in one slot for every message, for
   * effects that need one sequence across all messages (every 5th message wins). By
   * default a listener's keys are split by message over the cluster's primaries (see
   * Keyspace). Nothing changes on one Redis.
   */
  oneSlot?: boolean;
  /**
   * The listener's mode when the configuration names none for it (PodiumModule's
   * `delivery.modes`, the apps' DELIVERY_<NAME>): a listener that must not lose a message
   * says `durable` here. Without it, the configuration's default mode.
   */
  mode?: DeliveryMode;
};

/** What OnMessage records on the method. */
export interface OnMessageMetadata extends Omit<
  OnMessageOptions,
  'channel' | 'pattern'
> {
  type: AnyMessageType;
  channel?: string;
  pattern?: string;
}

/**
 * Marks a method of a provider as a listener's handler for messages of one type. It only
 * records metadata; the ListenerRegistrar finds it at start-up and binds it to the
 * delivery configured for the listener. The method receives the loaded message and
 * returns its Effects, or null when the message is not for this listener.
 *
 * - `channel`: one exact channel. Free text is escaped, so `signups:[vip]*` matches only
 *   itself.
 * - `pattern`: a Redis glob pattern, as PSUBSCRIBE takes it.
 *
 * The listener hears what is announced on its channel or pattern, and reads each id as a
 * message of `type`: subscribe to the channels of that type.
 */
export function OnMessage(
  type: AnyMessageType,
  options: OnMessageOptions,
): MethodDecorator {
  const where = `@OnMessage(${(type as AnyMessageType | undefined)?.name ?? 'undefined'}, { listener: "${options.listener}" })`;
  if (!type?.definition)
    throw new Error(
      `${where}: the first argument must be a message type (defineMessageType)`,
    );
  if (!options.listener || !/^[a-z][a-z0-9-]*$/.test(options.listener)) {
    throw new Error(
      `${where}: listener name "${options.listener}" must be kebab-case (a-z, 0-9, -)`,
    );
  }
  if (options.listener === 'group' || options.listener.startsWith('group-')) {
    // DELIVERY_GROUP_<NAME> sets a listener's group: DELIVERY_GROUP_X must not also be a listener's mode variable.
    throw new Error(
      `${where}: listener name "${options.listener}" is reserved (names may not start with "group")`,
    );
  }
  if ((options.channel === undefined) === (options.pattern === undefined)) {
    throw new Error(`${where}: give exactly one of channel or pattern`);
  }
  if (options.mode !== undefined && !isDeliveryMode(options.mode)) {
    throw new Error(
      `${where}: mode "${String(options.mode)}" is not one of ephemeral, queued, durable`,
    );
  }
  const metadata: OnMessageMetadata = {
    ...options,
    type,
  };
  return SetMetadata(ON_MESSAGE, metadata);
}
