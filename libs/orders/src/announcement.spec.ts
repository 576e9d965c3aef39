import { escapeGlob } from '@podium/core';
import { hearsOrder, orderChannels } from './announcement.js';
import { newOrder } from './order-fixtures.js';
import { ORDER } from './order-type.js';

describe('the announcement of an order', () => {
  it("is the seed's two channels, the general one first", () => {
    expect(orderChannels('Womens Judo')).toEqual([
      'purchase_orders',
      'purchase_orders:Womens Judo',
    ]);
  });

  it('is heard by a pattern that matches one of its channels', () => {
    expect(hearsOrder('purchase_orders', 'Archery')).toBe(true);
    expect(hearsOrder('purchase_orders:*', 'Archery')).toBe(true);
    expect(hearsOrder('purchase_orders:Opening Ceremony', 'Archery')).toBe(
      false,
    );
    const exact = `purchase_orders:${escapeGlob('100m [Final]*')}`;
    expect(hearsOrder(exact, '100m [Final]*')).toBe(true);
    expect(hearsOrder(exact, '100m F')).toBe(false);
  });

  it("is ORDER's: what podium's publisher announces, and whom ORDER.hears", () => {
    const order = newOrder({ event: 'Womens Judo' });
    expect(ORDER.channels(order)).toEqual(orderChannels('Womens Judo'));
    expect(ORDER.recordKey(order.orderId)).toBe(
      `purchase_order_details:${order.orderId}`,
    );
    expect(ORDER.hears('purchase_orders:W*', order)).toBe(true);
    expect(ORDER.hears('purchase_orders:Curling', order)).toBe(false);
  });
});
