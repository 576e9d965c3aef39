import {
  deliveryVariable,
  groupVariable,
  isDeliveryMode,
} from './delivery-mode.js';
import { jobIdFor, jobKey } from './group-queue.js';

describe('job ids', () => {
  it('are the order id when BullMQ accepts it', () => {
    expect(jobIdFor('9I1CHS')).toBe('9I1CHS');
  });

  it('escape ids BullMQ refuses: all digits, or a colon', () => {
    expect(jobIdFor('123456')).toBe('order-123456');
    expect(jobIdFor('a:b')).toBe('order-a%3Ab');
  });

  it('name the job hash BullMQ keeps under the group queue', () => {
    expect(jobKey('durable', '123')).toBe('podium:queue:durable:order-123');
  });
});

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
