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
    failover: number;
    cluster: number;
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
  failover: {
    /** Clients buying over HTTP, each its next purchase once the last is answered 201. */
    clients: number;
    /** Seconds of buying before the kill, in 4 slices between a WAIT 0 and a WAIT 1 box office: the cost of WAIT. */
    beforeS: number;
    /** Seconds of buying before a planned SENTINEL FAILOVER, on the run's own box office only (after 0.5 s to warm up). */
    plannedBeforeS: number;
    /** Seconds of buying after purchases are answered 201 again. */
    afterS: number;
    /** After the clients stopped: effects unchanged this long = applied as far as they go; at most deadlineS. */
    settleS: number;
    deadlineS: number;
    /** The silent network cuts: one Redis, and the listeners process or the box office behind a proxy that goes silent. */
    cut: {
      /** Clients buying, each paced so that together they buy `rate` purchases/s at most. */
      clients: number;
      /**
       * Purchases/s: a steady stream the machine carries with room to spare, the same
       * whatever its load, so that what piles up during the cut (~8 s of it) is alike.
       */
      rate: number;
      /** Seconds of buying before the cut. */
      beforeS: number;
      /** Seconds of buying once the cut process is back (its listeners caught up or applying again; purchases answered 201 again). */
      afterS: number;
      /** At most this long after the cut for it to be back. */
      deadlineS: number;
    };
  };
  cluster: {
    /** Orders published as fast as `concurrency` publishers allow, after `warmup` at 1,000/s. */
    orders: number;
    concurrency: number;
    warmup: number;
    /** Then this many more, with MONITOR on every primary (after the CPU window: MONITOR costs Redis CPU). */
    monitorOrders: number;
    /** Give up waiting for the effects this long after the first publish. */
    deadlineS: number;
  };
}

export const FULL: Plan = {
  name: 'full',
  reps: {
    saturation: 3,
    latency: 1,
    crash: 1,
    slow: 1,
    http: 3,
    failover: 1,
    cluster: 1,
  },
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
  // One kill per mode and REDIS_WAIT_REPLICAS (6), about 35 s each; as many planned failovers,
  // about 15 s each; 4 network cuts, about 20 s each (8 s of them the liveness timeout).
  failover: {
    clients: 16,
    beforeS: 8,
    plannedBeforeS: 2,
    afterS: 3,
    settleS: 3,
    deadlineS: 20,
    cut: { clients: 4, rate: 200, beforeS: 2, afterS: 2, deadlineS: 30 },
  },
  // One plain Redis, a 1- and a 3-primary cluster, ephemeral and durable (6 runs), about 15 s each.
  cluster: {
    orders: 10_000,
    concurrency: 16,
    warmup: 300,
    monitorOrders: 1500,
    deadlineS: 40,
  },
};

/**
 * About 7 minutes: short streams, one run each, and the crash scenario with shorter job
 * locks (so a dead worker's jobs come back within ~3 s instead of ~9 s).
 */
export const QUICK: Plan = {
  name: 'quick',
  reps: {
    saturation: 1,
    latency: 1,
    crash: 1,
    slow: 1,
    http: 1,
    failover: 1,
    cluster: 1,
  },
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
  failover: {
    clients: 16,
    beforeS: 2,
    plannedBeforeS: 1,
    afterS: 1,
    settleS: 1.5,
    deadlineS: 10,
    cut: { clients: 4, rate: 200, beforeS: 1, afterS: 1, deadlineS: 30 },
  },
  cluster: {
    orders: 2000,
    concurrency: 16,
    warmup: 100,
    monitorOrders: 800,
    deadlineS: 20,
  },
};
