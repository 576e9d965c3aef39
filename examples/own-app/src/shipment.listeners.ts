import { Injectable, Logger } from '@nestjs/common';
import { OnMessage, type Effects } from '@podium/core';
import { SHIPMENT, type Shipment } from './shipment.js';

/** Parcels per carrier on the live board: a lost update is fine here, latency is not. */
@Injectable()
export class LiveBoardListener {
  @OnMessage(SHIPMENT, {
    listener: 'live-board',
    pattern: 'shipments:*',
    mode: 'ephemeral',
  })
  count(shipment: Shipment): Effects {
    return {
      writes: [
        ['HINCRBY', 'board:parcels', shipment.carrier, shipment.parcels],
      ],
    };
  }
}

/** Labels to print, per carrier: retried until done, from when a listeners process heard it. */
@Injectable()
export class LabelsListener {
  @OnMessage(SHIPMENT, {
    listener: 'labels',
    channel: 'shipments',
    mode: 'queued',
  })
  queue(shipment: Shipment): Effects {
    return { writes: [['SADD', `labels:${shipment.carrier}`, shipment.id]] };
  }
}

/**
 * Parcels billed per customer: every shipment whose publication succeeded, also those made
 * while no listener ran. afterApply runs in this process once the writes are applied: at
 * most once (lost should the process die right then). A call outside Redis made in the
 * handler itself (an e-mail) runs at least once: podium sets the marker after the handler,
 * so a retry runs it again; pass it the shipment id as its idempotency key.
 */
@Injectable()
export class BillingListener {
  private readonly logger = new Logger('Billing');

  @OnMessage(SHIPMENT, {
    listener: 'billing',
    channel: 'shipments',
    mode: 'durable',
  })
  bill(shipment: Shipment): Effects {
    return {
      writes: [
        ['HINCRBY', 'billed:parcels', shipment.customer, shipment.parcels],
      ],
      afterApply: () =>
        this.logger.log(`billed ${shipment.customer} for ${shipment.id}`),
    };
  }
}

export const SHIPMENT_LISTENERS = [
  LiveBoardListener,
  LabelsListener,
  BillingListener,
];
