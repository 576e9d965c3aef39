import { isPlainName } from './is-name.validator.js';
import { MAX_JSON_DEPTH, tooDeeplyNested } from './json-body.js';

describe('tooDeeplyNested', () => {
  const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('allows MAX_JSON_DEPTH levels, the body itself counting as one', () => {
    expect(
      tooDeeplyNested(`{"who":${nest(MAX_JSON_DEPTH - 1)}}`),
    ).toBeUndefined();
    expect(tooDeeplyNested(`{"who":${nest(MAX_JSON_DEPTH)}}`)).toBe('who');
  });

  it('names the top-level field that nests too deeply, or the body', () => {
    expect(tooDeeplyNested(`{"event":"a","qty":[1],"who":${nest(50)}}`)).toBe(
      'who',
    );
    expect(tooDeeplyNested(`{"w\\u0068o":${nest(50)}}`)).toBe('who');
    expect(tooDeeplyNested(nest(50))).toBe('body');
    expect(
      tooDeeplyNested('{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{}}}}}}}}}'),
    ).toBe('a');
  });

  it('counts no bracket inside a string, escaped quotes included', () => {
    expect(
      tooDeeplyNested(`{"who":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`),
    ).toBeUndefined();
    expect(tooDeeplyNested(`{"a\\"[[[[[[[[[[":1}`)).toBeUndefined();
  });

  it('scans a deep body without recursing', () => {
    expect(tooDeeplyNested(nest(1_000_000))).toBe('body');
  });
});

describe('isPlainName', () => {
  it('accepts any text without controls, line separators or invalid Unicode', () => {
    for (const name of [
      'Womens Judo',
      '100m [Final]*',
      'Zoë',
      '名前',
      '👩‍🚀',
      'a\\nb',
      "O'Brien",
      'tab-free',
    ])
      expect(isPlainName(name)).toBe(true);
  });

  it('refuses C0 and C1 controls, DEL, line separators, lone surrogates, noncharacters and U+FFFD', () => {
    for (const name of [
      'a\nb',
      'a\rb',
      'a\u0000b',
      'a\tb',
      '\u001b[31m',
      'a\u007fb',
      'a\u0085b',
      'a\u009bb',
      'a\u2028b',
      'a\u2029b',
      '\ud800',
      'a\udfffb',
      'a\ufdd0b',
      'a\uffffb',
      'a\ufffdb',
    ]) {
      expect(isPlainName(name)).toBe(false);
    }
  });
});
