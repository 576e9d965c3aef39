import { createHash } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  eventChannel,
  eventKey,
  formatCents,
  idempotencyKey,
  newOrderId,
  orderFromHash,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  parsePriceToCents,
  type Order,
} from '@podium/orders';
import { LuaScript, REDIS } from '@podium/redis';
import { EventsService } from '../events/events.service.js';
import type { CreatePurchaseDto } from './dto/create-purchase.dto.js';

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/*
 * Records and announces an order in one atomic script (what a MULTI would do, plus the
 * checks that must see the same state): replay a known Idempotency-Key, check capacity,
 * store the order hash, count the tickets sold, announce on both channels.
 *
 * KEYS: event hash, order hash, idempotency key ('' when none)
 * ARGV: qty, idempotency value, idempotency ttl, order id, then the order hash fields
 * Reply: {'created'} | {'replay', order id, fingerprint} | {'sold_out', tickets left}
 */
const RECORD_AND_ANNOUNCE = new LuaScript(`
if KEYS[3] ~= '' then
  local known = redis.call('HMGET', KEYS[3], 'order_id', 'fingerprint')
  if known[1] then return {'replay', known[1], known[2]} end
end
local qty = tonumber(ARGV[1])
local capacity = tonumber(redis.call('HGET', KEYS[1], 'capacity'))
local sold = tonumber(redis.call('HGET', KEYS[1], 'sold') or '0')
if capacity and sold + qty > capacity then return {'sold_out', tostring(capacity - sold)} end
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('HINCRBY', KEYS[1], 'sold', qty)
if KEYS[3] ~= '' then
  redis.call('HSET', KEYS[3], 'order_id', ARGV[4], 'fingerprint', ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
redis.call('PUBLISH', '${ORDERS_CHANNEL}', ARGV[4])
redis.call('PUBLISH', '${eventChannel('')}' .. redis.call('HGET', KEYS[2], 'event'), ARGV[4])
return {'created'}
`);

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
  ) {}

  async purchase(dto: CreatePurchaseDto, idempotency?: string): Promise<PurchaseResult> {
    const event = await this.events.find(dto.event);
    if (!event) throw new NotFoundException(`event "${dto.event}" does not exist`);
    const order: Order = {
      orderId: newOrderId(),
      who: dto.who,
      qty: dto.qty,
      cost: formatCents(dto.qty * parsePriceToCents(event.price)),
      event: dto.event,
      ts: Math.floor(Date.now() / 1000),
    };
    const fingerprint = createHash('sha256').update(JSON.stringify([dto.event, dto.qty, dto.who])).digest('hex');
    const [outcome, ...rest] = await RECORD_AND_ANNOUNCE.run<string[]>(
      this.redis,
      [eventKey(dto.event), orderKey(order.orderId), idempotency ? idempotencyKey(idempotency) : ''],
      [dto.qty, fingerprint, IDEMPOTENCY_TTL_SECONDS, order.orderId, ...Object.entries(orderToHash(order)).flat()],
    );
    if (outcome === 'sold_out') {
      throw new ConflictException(`event "${dto.event}" has ${rest[0]} ticket(s) left, ${dto.qty} requested`);
    }
    if (outcome === 'replay') {
      const [orderId, knownFingerprint] = rest;
      if (knownFingerprint !== fingerprint) {
        throw new UnprocessableEntityException('Idempotency-Key was already used for a different purchase');
      }
      return { order: orderFromHash(orderId, await this.redis.hgetall(orderKey(orderId))), replayed: true };
    }
    return { order, replayed: false };
  }
}
