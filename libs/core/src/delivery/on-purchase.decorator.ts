import { SetMetadata } from '@nestjs/common';
import { isDeliveryMode, type DeliveryMode } from '../config/index.js';

export const ON_PURCHASE = 'podium:on-purchase';

export type OnPurchaseOptions = (
  | { listener: string; channel: string; pattern?: never }
  | { listener: string; pattern: string; channel?: never }
) & {
  /**
   * On a Redis Cluster, keep this listener's keys in one slot for every order, for effects
   * that need one sequence across all orders (the lottery's every 5th order). By default a
   * listener's keys are split by order over the cluster's primaries (see Keyspace).
   * Nothing changes on one Redis.
   */
  oneSlot?: boolean;
  /**
   * The listener's mode when the configuration names none for it (PodiumModule's
   * `delivery.modes`, the apps' DELIVERY_<NAME>): a listener that must not lose an order
   * says `durable` here. Without it, the configuration's default mode.
   */
  mode?: DeliveryMode;
};

/**
 * Marks a provider method as a listener's handler. It only records metadata; the
 * ListenerRegistrar finds it at start-up and binds it to the delivery configured for the
 * listener. The method receives the loaded Order and returns its Effects, or null when the
 * order is not for this listener.
 *
 * - `channel`: one exact channel. Free text is escaped, so `purchase_orders:100m [Final]*`
 *   matches only itself.
 * - `pattern`: a Redis glob pattern, as PSUBSCRIBE takes it.
 */
export function OnPurchase(options: OnPurchaseOptions): MethodDecorator {
  if (!options.listener || !/^[a-z][a-z0-9-]*$/.test(options.listener)) {
    throw new Error(
      `@OnPurchase: listener name "${options.listener}" must be kebab-case (a-z, 0-9, -)`,
    );
  }
  if (options.listener === 'group' || options.listener.startsWith('group-')) {
    // DELIVERY_GROUP_<NAME> sets a listener's group: DELIVERY_GROUP_X must not also be a listener's mode variable.
    throw new Error(
      `@OnPurchase: listener name "${options.listener}" is reserved (names may not start with "group")`,
    );
  }
  if ((options.channel === undefined) === (options.pattern === undefined)) {
    throw new Error(
      `@OnPurchase({ listener: "${options.listener}" }): give exactly one of channel or pattern`,
    );
  }
  if (options.mode !== undefined && !isDeliveryMode(options.mode)) {
    throw new Error(
      `@OnPurchase({ listener: "${options.listener}" }): mode "${String(options.mode)}" is not one of ephemeral, queued, durable`,
    );
  }
  return SetMetadata(ON_PURCHASE, options);
}
