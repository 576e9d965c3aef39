/**
 * What the writes that wait for replicas need to know of failovers (FailoverMonitor, in
 * @podium/observability, provides it): a write acknowledged by replicas of an old primary
 * may not be on the one promoted.
 */
export interface FailoverSignal {
  /** Goes up when a failover begins or is seen. */
  readonly epoch: number;
  /** True from the moment the Sentinels start a failover until it is over. */
  readonly failingOver: boolean;
}
