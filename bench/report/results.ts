import type { Plan } from '../lib/plan.js';
import type { CrashRun } from '../scenarios/crash.js';
import type { FailoverRun } from '../scenarios/failover.js';
import type { HttpRun } from '../scenarios/http.js';
import type { NetworkCutRun } from '../scenarios/network-cut.js';
import type { ClusterRun } from '../scenarios/cluster.js';
import type { LatencyRun } from '../scenarios/latency.js';
import type { SaturationRun } from '../scenarios/saturation.js';
import type { SlowRun } from '../scenarios/slow.js';

/** Everything one bench run measured: written as results.json, and the report's source. */
export interface Results {
  meta: {
    plan: Plan;
    startedAt: string;
    durationS: number;
    machine: {
      cpus: number;
      cpuModel: string;
      memoryGiB: number;
      node: string;
      redis: string;
      commit: string;
    };
    loadAverageAtStart: number[];
    loadAverageAtEnd?: number[];
    /** Wall seconds of each run, start to checks. */
    steps: { step: string; seconds: number }[];
  };
  saturation: SaturationRun[];
  latency: LatencyRun[];
  crash: CrashRun[];
  slow: SlowRun[];
  mixed: SlowRun[];
  /** Absent from the figures of runs made before the HTTP scenario existed. */
  http?: HttpRun[];
  /** Absent from the figures of runs made before the failover and cluster scenarios existed. */
  failover?: FailoverRun[];
  /** The failover scenario's silent network cuts; absent from runs made before them. */
  networkCut?: NetworkCutRun[];
  cluster?: ClusterRun[];
  failures: { scenario: string; system: string; rep: number; error: string }[];
}
