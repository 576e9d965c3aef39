import {
  deliveryVariable,
  groupVariable,
  isDeliveryMode,
} from './delivery-mode.js';

describe('delivery modes', () => {
  it('names the variables of one listener', () => {
    expect(deliveryVariable('sales-histogram')).toBe(
      'DELIVERY_SALES_HISTOGRAM',
    );
    expect(groupVariable('sales-histogram')).toBe(
      'DELIVERY_GROUP_SALES_HISTOGRAM',
    );
  });

  it('knows the three modes', () => {
    expect(
      ['ephemeral', 'queued', 'durable', 'fast'].map(isDeliveryMode),
    ).toEqual([true, true, true, false]);
  });
});
