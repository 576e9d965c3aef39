import { Injectable, Logger } from '@nestjs/common';
import { type Effects } from '@podium/core';
import {
  ALERTS,
  eventChannel,
  OPENING_CEREMONY,
  type Order,
  OlympicsSettings,
  OnPurchase,
} from '@podium/orders';

export interface Alert {
  orderId: string;
  event: string;
  qty: number;
  cost: string;
  ts: number;
  message: string;
}

/**
 * An alert for every purchase except Opening Ceremony ones. It subscribes to every event's
 * channel and excludes in code: the seed's `purchase_orders[^(Opening Ceremony)]*` is a
 * one-character class and excludes nothing. Alerts are kept newest first in list `alerts`,
 * capped at ALERTS_MAX.
 */
@Injectable()
export class EventAlertsListener {
  private readonly logger = new Logger('EventAlerts');

  constructor(private readonly settings: OlympicsSettings) {}

  @OnPurchase({ listener: 'event-alerts', pattern: `${eventChannel('')}*` })
  onPurchase(order: Order): Effects | null {
    if (order.event === OPENING_CEREMONY) return null;
    const message = `Purchase ${order.event}: #${order.qty} $${order.cost}`;
    const alert: Alert = {
      orderId: order.orderId,
      event: order.event,
      qty: order.qty,
      cost: order.cost,
      ts: order.ts,
      message,
    };
    return {
      writes: [
        ['LPUSH', ALERTS, JSON.stringify(alert)],
        ['LTRIM', ALERTS, 0, this.settings.alertsMax - 1],
      ],
      afterApply: () => this.logger.log(message),
    };
  }
}
