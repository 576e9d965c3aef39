/** How much each scenario does, for the full run and for --quick. */
export interface Plan {
  name: 'full' | 'quick';
  /** Runs of each measurement per system; the report quotes the median run. */
  reps: {
    saturation: number;
    latency: number;
    crash: number;
    slow: number;
    http: number;
  };
  /** Orders published (at 1,000/s) and applied before each measurement, then checked with it. */
  warmup: number;
  /** Pause after the warm-up and between latency rates, ms. */
  pauseMs: number;
  saturation: {
    orders: number;
    concurrency: number;
    /** Give up waiting for the effects this long after the first publish, or after this long without progress. */
    deadlineS: number;
    idleS: number;
  };
  latency: { rates: number[]; seconds: number; drainS: number };
  crash: {
    rate: number;
    seconds: number;
    downMs: number;
    deadlineS: number;
    /** Stream quiet this long (and the queue recovery time past) = recovered as far as it goes. */
    settleS: number;
    /** podium's job lock and stalled-check interval for this scenario (defaults: 5,000 and 2,000 ms). */
    lockMs: number;
    stalledCheckMs: number;
  };
  slow: { rate: number; seconds: number; drainS: number };
  http: {
    /** autocannon's connections, each sending its next purchase when the last is answered. */
    connections: number;
    seconds: number;
    /** Purchases sent (and applied) before the measurement. */
    warmup: number;
    /** After the load: at most this long for the listeners to apply its orders. */
    drainS: number;
  };
}

export const FULL: Plan = {
  name: 'full',
  reps: { saturation: 3, latency: 1, crash: 1, slow: 1, http: 3 },
  warmup: 300,
  pauseMs: 500,
  saturation: { orders: 20_000, concurrency: 16, deadlineS: 50, idleS: 15 },
  latency: { rates: [500, 2000], seconds: 10, drainS: 5 },
  crash: {
    rate: 500,
    seconds: 12,
    downMs: 2000,
    deadlineS: 30,
    settleS: 3,
    lockMs: 5000,
    stalledCheckMs: 2000,
  },
  slow: { rate: 500, seconds: 20, drainS: 5 },
  http: { connections: 16, seconds: 10, warmup: 2000, drainS: 10 },
};

/**
 * Under 3 minutes: short streams, one run each, and the crash scenario with shorter job
 * locks (so a dead worker's jobs come back within ~3 s instead of ~9 s).
 */
export const QUICK: Plan = {
  name: 'quick',
  reps: { saturation: 1, latency: 1, crash: 1, slow: 1, http: 1 },
  warmup: 100,
  pauseMs: 100,
  saturation: { orders: 1_000, concurrency: 16, deadlineS: 20, idleS: 8 },
  latency: { rates: [500, 2000], seconds: 1, drainS: 2 },
  crash: {
    rate: 250,
    seconds: 6,
    downMs: 2000,
    deadlineS: 15,
    settleS: 2,
    lockMs: 1000,
    stalledCheckMs: 500,
  },
  slow: { rate: 500, seconds: 2, drainS: 2 },
  http: { connections: 16, seconds: 2, warmup: 500, drainS: 5 },
};
