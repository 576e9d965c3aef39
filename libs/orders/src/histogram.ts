/**
 * The hour-of-day sales histograms are Redis strings driven by BITFIELD.
 *
 * - `u32` (the default): one unsigned 32-bit counter per hour at index `#<hour>`, with
 *   OVERFLOW SAT so a busy hour sticks at the maximum instead of wrapping.
 * - `seed-u8`: the seed's layout, u8 at bit offset (hour + 1) * 8. It wraps silently after
 *   255 tickets in an hour; kept for readers written against the seed.
 */
export const HISTOGRAM_ENCODINGS = ['u32', 'seed-u8'] as const;
export type HistogramEncoding = (typeof HISTOGRAM_ENCODINGS)[number];

export const HOURS_PER_DAY = 24;

/** BITFIELD arguments (after the key) that add `qty` to `hour`'s counter. */
export function histogramIncrementArgs(
  encoding: HistogramEncoding,
  hour: number,
  qty: number,
): string[] {
  checkHour(hour);
  return encoding === 'u32'
    ? ['OVERFLOW', 'SAT', 'INCRBY', 'u32', `#${hour}`, String(qty)]
    : ['INCRBY', 'u8', String((hour + 1) * 8), String(qty)];
}

/** BITFIELD arguments (after the key) that read all 24 counters in one command. */
export function histogramReadArgs(encoding: HistogramEncoding): string[] {
  const args: string[] = [];
  for (let hour = 0; hour < HOURS_PER_DAY; hour++) {
    args.push(
      ...(encoding === 'u32'
        ? ['GET', 'u32', `#${hour}`]
        : ['GET', 'u8', String((hour + 1) * 8)]),
    );
  }
  return args;
}

/** The hour of day (0-23, UTC) of an epoch-seconds timestamp. */
export function hourOfDay(epochSeconds: number): number {
  return new Date(epochSeconds * 1000).getUTCHours();
}

function checkHour(hour: number): void {
  if (!Number.isInteger(hour) || hour < 0 || hour >= HOURS_PER_DAY) {
    throw new RangeError(`hour must be an integer from 0 to 23, got ${hour}`);
  }
}
