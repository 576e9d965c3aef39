import { escapeGlob, globMatches } from './glob.js';

describe('escapeGlob', () => {
  it('escapes every glob character so an event name matches only itself', () => {
    const name = '100m [Final]* a?b\\c';
    const pattern = `purchase_orders:${escapeGlob(name)}`;
    expect(pattern).toBe('purchase_orders:100m \\[Final\\]\\* a\\?b\\\\c');
    expect(globMatches(pattern, `purchase_orders:${name}`)).toBe(true);
    expect(globMatches(pattern, 'purchase_orders:100m F')).toBe(false);
    expect(globMatches(pattern, 'purchase_orders:100m [Final]* aXb\\c')).toBe(
      false,
    );
  });

  it('leaves plain names alone', () => {
    expect(escapeGlob('Opening Ceremony')).toBe('Opening Ceremony');
  });
});

describe('globMatches', () => {
  it.each([
    ['purchase_orders:*', 'purchase_orders:Womens Judo', true],
    ['purchase_orders:*', 'purchase_orders', false],
    ['purchase_orders', 'purchase_orders', true],
    ['h?llo', 'hello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    // The seed's pattern is a one-character class: it excludes nothing useful.
    [
      'purchase_orders[^(Opening Ceremony)]*',
      'purchase_orders:Opening Ceremony',
      true,
    ],
  ])('%s ~ %s is %s', (pattern, channel, expected) => {
    expect(globMatches(pattern, channel)).toBe(expected);
  });
});
