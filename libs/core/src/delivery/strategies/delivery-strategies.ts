import { Injectable } from '@nestjs/common';
import type { DeliveryMode } from '../../config/index.js';
import type { DeliveryStrategy } from './delivery-strategy.js';
import { DurableDelivery } from './durable-delivery.js';
import { EphemeralDelivery } from './ephemeral-delivery.js';
import { QueuedDelivery } from './queued-delivery.js';

/** The one place that picks a delivery implementation by mode. */
@Injectable()
export class DeliveryStrategies {
  private readonly byMode: Record<DeliveryMode, DeliveryStrategy>;

  constructor(
    ephemeral: EphemeralDelivery,
    queued: QueuedDelivery,
    durable: DurableDelivery,
  ) {
    this.byMode = { ephemeral, queued, durable };
  }

  for(mode: DeliveryMode): DeliveryStrategy {
    return this.byMode[mode];
  }

  all(): DeliveryStrategy[] {
    return Object.values(this.byMode);
  }
}
