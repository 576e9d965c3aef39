import { defineMessageType } from '@podium/core';

/** A parcel shipment: the app's own message. */
export interface Shipment {
  id: string;
  carrier: string;
  /** Who is billed for it. */
  customer: string;
  parcels: number;
}

/**
 * How podium stores and announces a shipment: the hash `shipment:<id>`, announced on
 * `shipments` and `shipments:<carrier>` with the bare id.
 */
export const SHIPMENT = defineMessageType<Shipment>()({
  name: 'shipment',
  idField: 'id',
  recordKeyPrefix: 'shipment:',
  toHash: ({ id, carrier, customer, parcels }) => ({
    id,
    carrier,
    customer,
    parcels: String(parcels),
  }),
  // Read once for every listener; what throws here is rejected by all of them, and counted.
  fromHash: (id, hash) => {
    const parcels = Number(hash.parcels);
    if (!Number.isInteger(parcels) || parcels < 1)
      throw new Error('field "parcels" is not a whole number of at least 1');
    if (!hash.carrier) throw new Error('field "carrier" is missing');
    return { id, carrier: hash.carrier, customer: hash.customer, parcels };
  },
  channels: (shipment) => ['shipments', `shipments:${shipment.carrier}`],
});
