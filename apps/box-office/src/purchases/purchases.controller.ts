import { BadRequestException, Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CreatePurchaseDto } from './dto/create-purchase.dto.js';
import { PurchasesService } from './purchases.service.js';

export interface PurchaseResponse {
  orderId: string;
  event: string;
  qty: number;
  who: string;
  cost: number;
  ts: number;
}

@Controller('purchases')
export class PurchasesController {
  constructor(private readonly purchases: PurchasesService) {}

  /**
   * Records an order and announces it. A retry that sends the same Idempotency-Key gets
   * the same order back (with Idempotent-Replayed: true) instead of buying twice.
   */
  @Post()
  @HttpCode(201)
  async create(
    @Body() dto: CreatePurchaseDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PurchaseResponse> {
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key header must be 1 to 200 printable characters');
    }
    const { order, replayed } = await this.purchases.purchase(dto, idempotencyKey);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    const { orderId, event, qty, who, cost, ts } = order;
    return { orderId, event, qty, who, cost: Number(cost), ts };
  }
}
