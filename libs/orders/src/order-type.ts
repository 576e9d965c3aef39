import { defineMessageType } from '@podium/core';
import { orderChannels } from './announcement.js';
import { eventKey, orderKey } from './keys.js';
import { orderFromHash, orderToHash, type Order } from './order.js';

/**
 * The Olympics order as a podium message type, with the seed's contracts: its record is
 * the hash `purchase_order_details:<order_id>`, it is announced on `purchase_orders` and
 * `purchase_orders:<event>` with the bare id, and a purchase is admitted against its
 * event's price and capacity in the record script (purchase-admission.lua). On a cluster
 * an order's id is made so that its hash shares the slot of `events:<event>`.
 */
export const ORDER = defineMessageType<Order>()({
  name: 'order',
  idField: 'orderId',
  recordKeyPrefix: orderKey(''),
  toHash: orderToHash,
  fromHash: orderFromHash,
  channels: (order) => orderChannels(order.event),
  placedBy: (order) => eventKey(order.event),
  admission: {
    lua: new URL('./purchase-admission.lua', import.meta.url),
    keys: (order) => [eventKey(order.event)],
  },
});
