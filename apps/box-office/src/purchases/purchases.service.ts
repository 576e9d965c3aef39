import { createHash } from 'node:crypto';
import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  formatCents,
  newOrderId,
  orderFromHash,
  orderKey,
  parsePriceToCents,
  type Order,
} from '@podium/orders';
import { OrderPublisher } from '@podium/publisher';
import { REDIS } from '@podium/redis';
import { EventsService } from '../events/events.service.js';
import type { CreatePurchaseDto } from './dto/create-purchase.dto.js';

export interface PurchaseResult {
  order: Order;
  /** True when an Idempotency-Key matched an earlier request: nothing new was recorded. */
  replayed: boolean;
}

@Injectable()
export class PurchasesService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly events: EventsService,
    private readonly publisher: OrderPublisher,
  ) {}

  async purchase(
    dto: CreatePurchaseDto,
    idempotencyKey?: string,
  ): Promise<PurchaseResult> {
    const event = await this.events.find(dto.event);
    if (!event)
      throw new NotFoundException(`event "${dto.event}" does not exist`);
    const order: Order = {
      orderId: newOrderId(),
      who: dto.who,
      qty: dto.qty,
      cost: formatCents(dto.qty * parsePriceToCents(event.price)),
      event: dto.event,
      ts: Math.floor(Date.now() / 1000),
    };
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([dto.event, dto.qty, dto.who]))
      .digest('hex');
    const result = await this.publisher.record(
      order,
      idempotencyKey ? { key: idempotencyKey, fingerprint } : undefined,
    );
    switch (result.outcome) {
      case 'created':
        return { order, replayed: false };
      case 'sold_out':
        throw new ConflictException(
          `event "${dto.event}" has ${result.ticketsLeft} ticket(s) left, ${dto.qty} requested`,
        );
      case 'replay':
        if (!result.sameRequest)
          throw new UnprocessableEntityException(
            'Idempotency-Key was already used for a different purchase',
          );
        return {
          order: orderFromHash(
            result.orderId,
            await this.redis.hgetall(orderKey(result.orderId)),
          ),
          replayed: true,
        };
    }
  }
}
