/**
 * The HTTP scenario's baseline: the least a NestJS purchase endpoint can do. One POST
 * /purchases controller on Nest's default Express platform and JSON body parser, one plain
 * ioredis connection; it writes the order hash and announces the id on purchase_orders and
 * purchase_orders:<event> in one MULTI, and answers 201 with the order. No validation beyond
 * reading the body, no price lookup (every seed event costs PRICE), no counters, markers,
 * idempotency or rate limit: what podium's box office adds is what it is measured against.
 *
 * Started by the bench as its own OS process: REDIS_URL, PORT (0: a free one); prints
 * `Listening on http://localhost:<port>` once it listens, and exits on SIGTERM.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Inject, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import {
  addAnnouncement,
  newOrderId,
  orderKey,
  orderToHash,
  type Order,
} from '@podium/orders';
import { redisOptionsFromUrl } from '@podium/redis';
import { PRICE } from '../lib/model.js';

const REDIS = Symbol('REDIS');

interface PurchaseBody {
  event: string;
  qty: number;
  who: string;
}

@Controller('purchases')
class BarePurchasesController {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  @Post()
  async create(@Body() body: PurchaseBody): Promise<Order> {
    const order: Order = {
      orderId: newOrderId(),
      event: body.event,
      qty: body.qty,
      who: body.who,
      cost: String(body.qty * PRICE),
      ts: Math.floor(Date.now() / 1000),
    };
    const multi = this.redis
      .multi()
      .hset(orderKey(order.orderId), orderToHash(order));
    await addAnnouncement(multi, order.orderId, order.event).exec();
    return order;
  }
}

async function main(): Promise<void> {
  const redis = new Redis(
    redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
  );
  @Module({
    controllers: [BarePurchasesController],
    providers: [{ provide: REDIS, useValue: redis }],
  })
  class BarePurchaseModule {}

  const app = await NestFactory.create(BarePurchaseModule, {
    logger: ['error', 'warn'],
  });
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  console.log(`Listening on http://localhost:${port}`);
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => redis.quit())
      .finally(() => process.exit(0));
  });
}

main().catch((err: Error) => {
  console.error(`bare purchase app: cannot start: ${err.stack ?? err.message}`);
  process.exit(1);
});
