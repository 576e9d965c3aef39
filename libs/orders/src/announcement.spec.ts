import { readFileSync } from 'node:fs';
import { escapeGlob } from './glob.js';
import { hearsOrder, orderChannels } from './announcement.js';

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

  it('is published the same way from Lua (includes/announce-order.lua)', () => {
    const lua = readFileSync(
      new URL(
        '../../core/src/publisher/record/includes/announce-order.lua',
        import.meta.url,
      ),
      'utf8',
    );
    const [all, perEvent] = orderChannels('');
    expect(lua.match(/^\s*redis\.call\('PUBLISH'.*$/gm)).toEqual([
      `  redis.call('PUBLISH', '${all}', id)`,
      `  redis.call('PUBLISH', '${perEvent}' .. event, id)`,
    ]);
  });
});
