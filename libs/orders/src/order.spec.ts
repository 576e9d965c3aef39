import {
  formatCents,
  MalformedOrderError,
  newOrderId,
  orderFromHash,
  orderToHash,
  parsePriceToCents,
} from './order.js';

describe('order model', () => {
  const order = {
    orderId: 'AB12',
    who: 'ann',
    qty: 2,
    cost: '40',
    event: 'Womens Judo',
    ts: 1_700_000_000,
  };

  it("round-trips through the seed's hash fields", () => {
    const hash = orderToHash(order);
    expect(hash).toEqual({
      order_id: 'AB12',
      who: 'ann',
      qty: '2',
      cost: '40',
      event: 'Womens Judo',
      ts: '1700000000',
    });
    expect(orderFromHash('AB12', hash)).toEqual(order);
  });

  it('names the bad field of a malformed hash', () => {
    expect(() =>
      orderFromHash('X', { ...orderToHash(order), qty: '0' }),
    ).toThrow(/"qty"/);
    expect(() =>
      orderFromHash('X', { ...orderToHash(order), cost: 'free' }),
    ).toThrow(MalformedOrderError);
    const noWho: Record<string, string> = orderToHash(order);
    delete noWho.who;
    expect(() => orderFromHash('X', noWho)).toThrow(/"who" is missing/);
  });

  it('rejects fields out of range, so that no listener half-applies an order', () => {
    const bad = (fields: Record<string, string>) => () =>
      orderFromHash('X', { ...orderToHash(order), ...fields });
    expect(bad({ ts: '99999999999999999999' })).toThrow(
      'field "ts" is not epoch seconds from 0 to 253402300799',
    );
    expect(bad({ ts: '-1' })).toThrow(/"ts"/);
    expect(bad({ qty: 'abc' })).toThrow(
      'field "qty" is not an integer from 1 to 2147483647',
    );
    expect(bad({ qty: '2.5' })).toThrow(/"qty"/);
    expect(bad({ qty: '1e3' })).toThrow(/"qty"/);
    expect(bad({ cost: 'NaN' })).toThrow(/"cost"/);
    expect(bad({ cost: '1'.repeat(16) })).toThrow(/"cost"/);
    expect(
      orderFromHash('X', { ...orderToHash(order), ts: '1700000000.75' }).ts,
    ).toBe(1_700_000_000);
  });

  it('makes ids that BullMQ accepts as job ids: no colon, never all digits', () => {
    for (let i = 0; i < 200; i++) {
      const id = newOrderId();
      expect(id).toMatch(/^[A-Z][A-Z0-9]{11}$/);
    }
  });

  it('computes money in cents', () => {
    expect(parsePriceToCents(20)).toBe(2000);
    expect(parsePriceToCents(0.1)).toBe(10);
    expect(() => parsePriceToCents(1.234)).toThrow(RangeError);
    expect(formatCents(3 * parsePriceToCents(0.1))).toBe('0.3');
    expect(formatCents(1205)).toBe('12.05');
    expect(formatCents(4000)).toBe('40');
  });
});
