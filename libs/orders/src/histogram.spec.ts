import {
  histogramIncrementArgs,
  histogramReadArgs,
  hourOfDay,
} from './histogram.js';

describe('histogram encoding', () => {
  it('u32 counters at #hour saturate instead of wrapping', () => {
    expect(histogramIncrementArgs('u32', 13, 4)).toEqual([
      'OVERFLOW',
      'SAT',
      'INCRBY',
      'u32',
      '#13',
      '4',
    ]);
  });

  it("seed-u8 keeps the seed's bit offsets, (hour + 1) * 8", () => {
    expect(histogramIncrementArgs('seed-u8', 0, 2)).toEqual([
      'INCRBY',
      'u8',
      '8',
      '2',
    ]);
    expect(histogramIncrementArgs('seed-u8', 23, 2)).toEqual([
      'INCRBY',
      'u8',
      '192',
      '2',
    ]);
  });

  it('reads all 24 hours in one BITFIELD', () => {
    const args = histogramReadArgs('u32');
    expect(args).toHaveLength(72);
    expect(args.slice(69)).toEqual(['GET', 'u32', '#23']);
  });

  it('rejects an hour outside 0-23', () => {
    expect(() => histogramIncrementArgs('u32', 24, 1)).toThrow(RangeError);
  });

  it('takes the hour from the timestamp in UTC', () => {
    expect(hourOfDay(Date.UTC(2026, 6, 24, 23, 59) / 1000)).toBe(23);
    expect(hourOfDay(0)).toBe(0);
  });
});
