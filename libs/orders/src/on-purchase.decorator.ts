import { OnMessage, type OnMessageOptions } from '@podium/core';
import { ORDER } from './order-type.js';

/**
 * A listener of Olympics orders: `@OnMessage(ORDER, options)`. The method receives the
 * loaded Order and returns its Effects, or null when the order is not for it.
 */
export function OnPurchase(options: OnMessageOptions): MethodDecorator {
  return OnMessage(ORDER, options);
}
