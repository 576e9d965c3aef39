import { BadRequestException, Body, Controller, Post } from '@nestjs/common';
import { MessagePublisher } from '@podium/core';
import { SHIPMENT } from './shipment.js';

/** POST /shipments: records a shipment once and announces it to every listener. */
@Controller('shipments')
export class ShipmentsController {
  constructor(private readonly publisher: MessagePublisher) {}

  @Post()
  async ship(@Body() body: Record<string, unknown>): Promise<{ id: string }> {
    const { carrier, customer, parcels } = body ?? {};
    if (typeof carrier !== 'string' || !/^[a-z0-9-]{1,40}$/.test(carrier))
      throw new BadRequestException('carrier must be 1 to 40 of a-z, 0-9, -');
    if (typeof customer !== 'string' || customer === '')
      throw new BadRequestException('customer must be a non-empty string');
    if (!Number.isInteger(parcels) || (parcels as number) < 1)
      throw new BadRequestException(
        'parcels must be a whole number of at least 1',
      );
    // No id given: podium makes one. Rejects (a 500) when Redis does not take it.
    const result = await this.publisher.publish(SHIPMENT, {
      carrier,
      customer,
      parcels: parcels as number,
    });
    if (result.outcome !== 'created')
      throw new Error(`not recorded: ${result.outcome}`);
    return { id: result.message.id };
  }
}
