import {
  BadRequestException,
  Body,
  Controller,
  Headers,
  HttpCode,
  Post,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ErrorResponse } from '@podium/core';
import { RateLimit } from '../rate-limit/rate-limit.js';
import { CreatePurchaseDto } from './dto/create-purchase.dto.js';
import { PurchaseResponse } from './purchase.response.js';
import { PurchasesService } from './purchases.service.js';

export { PurchaseResponse } from './purchase.response.js';

@ApiTags('purchases')
@Controller('purchases')
export class PurchasesController {
  constructor(private readonly purchases: PurchasesService) {}

  /**
   * Records an order and announces it. A retry that sends the same Idempotency-Key gets
   * the same order back (with Idempotent-Replayed: true) instead of buying twice.
   */
  @Post()
  @HttpCode(201)
  @RateLimit('PURCHASE_RATE_LIMIT', 'purchases')
  @ApiOperation({
    summary:
      'Buys tickets: records the order once and announces it on purchase_orders and purchase_orders:<event>',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Makes a retry safe: the same key and body within 24 h return the same order instead of buying twice (1 to 200 printable characters)',
  })
  @ApiCreatedResponse({
    type: PurchaseResponse,
    description:
      'The order (a replayed Idempotency-Key answers the original order, with header Idempotent-Replayed: true)',
    headers: {
      'Idempotent-Replayed': {
        description:
          'true when the order is an earlier one returned for the same Idempotency-Key',
        schema: { type: 'string' },
      },
    },
  })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description:
      'A field is missing or invalid, a name with control characters or invalid Unicode, an unexpected field, a body that is not a JSON object or nests too deeply, or a bad Idempotency-Key',
  })
  @ApiNotFoundResponse({
    type: ErrorResponse,
    description: 'The event does not exist',
  })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'The event has fewer tickets left than requested',
  })
  @ApiPayloadTooLargeResponse({
    type: ErrorResponse,
    description: 'The body is larger than 16 KiB',
  })
  @ApiUnprocessableEntityResponse({
    type: ErrorResponse,
    description:
      'The Idempotency-Key was already used for a different purchase',
  })
  @ApiUnsupportedMediaTypeResponse({
    type: ErrorResponse,
    description: 'The body is not UTF-8',
  })
  async create(
    @Body() dto: CreatePurchaseDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PurchaseResponse> {
    if (
      idempotencyKey !== undefined &&
      !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)
    ) {
      throw new BadRequestException(
        'Idempotency-Key header must be 1 to 200 printable characters',
      );
    }
    const { order, replayed } = await this.purchases.purchase(
      dto,
      idempotencyKey,
    );
    res.locals.orderId = order.orderId; // the access log line carries it (JSON logs)
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    const { orderId, event, qty, who, cost, ts } = order;
    return { orderId, event, qty, who, cost: Number(cost), ts };
  }
}
