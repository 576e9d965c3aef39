export const DELIVERY_OPTIONS = Symbol('DELIVERY_OPTIONS');

export interface DeliveryOptions {
  /** Listener names this process runs; undefined runs every listener it hosts. */
  listeners?: string[];
  appliedMarkerTtlSeconds: number;
}
