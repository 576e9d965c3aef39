import { createHash } from 'node:crypto';
import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import {
  orderFromHash,
  orderKey,
  type Order,
  OrderPublisher,
} from '@podium/orders';
import { REDIS, type RedisClient } from '@podium/redis';
import type { CreatePurchaseDto } from './dto/create-purchase.dto.js';

export interface PurchaseResult {
  order: Order;
  /** True when an Idempotency-Key matched an earlier request: nothing new was recorded. */
  replayed: boolean;
}

@Injectable()
export class PurchasesService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly publisher: OrderPublisher,
  ) {}

  /**
   * The record script finds the event and its price itself (a replayed Idempotency-Key
   * reads the earlier order too) and announces the order: one round trip in ephemeral and
   * queued mode. With durable groups the purchase then waits for its tick's job (BullMQ's
   * add) and clears the order's outbox entry: three round trips one after the other.
   */
  async purchase(
    dto: CreatePurchaseDto,
    idempotencyKey?: string,
  ): Promise<PurchaseResult> {
    const result = await this.publisher.purchase(
      { event: dto.event, qty: dto.qty, who: dto.who },
      idempotencyKey
        ? { key: idempotencyKey, fingerprint: fingerprintOf(dto) }
        : undefined,
    );
    switch (result.outcome) {
      case 'created':
        return { order: result.order, replayed: false };
      case 'no_event':
        throw new NotFoundException(`event "${dto.event}" does not exist`);
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

/** A digest of the request: the same Idempotency-Key with another request is not a replay. */
function fingerprintOf(dto: CreatePurchaseDto): string {
  return createHash('sha256')
    .update(JSON.stringify([dto.event, dto.qty, dto.who]))
    .digest('hex');
}
