import {
  BadRequestException,
  Controller,
  Get,
  Param,
  ParseIntPipe,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorResponse } from '@podium/core';
import type { Alert } from '@podium/listeners';
import type { Order } from '@podium/orders';
import {
  AlertResponse,
  EventSalesResponse,
  HistogramResponse,
  OrderResponse,
} from './report.responses.js';
import {
  ReportsService,
  type EventSales,
  type Histogram,
} from './reports.service.js';

export const MAX_ALERTS_PAGE = 1000;
const DEFAULT_ALERTS_PAGE = 20;

/** The read API over the listeners' metrics. */
@ApiTags('reports')
@Controller()
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('metrics/sales')
  @ApiOperation({
    summary:
      'Per event: total sales, tickets sold and orders (written by sales-summary)',
  })
  @ApiOkResponse({ type: [EventSalesResponse] })
  sales(): Promise<EventSales[]> {
    return this.reports.sales();
  }

  /** The 24 hourly ticket counts of one event, or of all events without ?event=. */
  @Get('metrics/histogram')
  @ApiOperation({
    summary:
      'Tickets sold per hour of day, UTC, of one event or of all (written by sales-histogram)',
  })
  @ApiQuery({
    name: 'event',
    required: false,
    description: 'One event; all events without it',
  })
  @ApiOkResponse({ type: HistogramResponse })
  @ApiNotFoundResponse({
    type: ErrorResponse,
    description: 'The event does not exist',
  })
  histogram(@Query('event') event?: string): Promise<Histogram> {
    return this.reports.histogram(event);
  }

  @Get('customers/:who/invoices')
  @ApiOperation({
    summary: "A customer's orders, oldest first (written by customer-invoices)",
  })
  @ApiParam({ name: 'who', example: 'ann' })
  @ApiOkResponse({ type: [OrderResponse] })
  invoices(@Param('who') who: string): Promise<Order[]> {
    return this.reports.invoices(who);
  }

  @Get('lottery/winners')
  @ApiOperation({
    summary: 'Winning Opening Ceremony orders, in the order they won',
  })
  @ApiOkResponse({ type: [OrderResponse] })
  lotteryWinners(): Promise<Order[]> {
    return this.reports.lotteryWinners();
  }

  /** The most recent alerts first. */
  @Get('alerts')
  @ApiOperation({
    summary: 'The most recent alerts first (written by event-alerts)',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    type: 'integer',
    description: `1 to ${MAX_ALERTS_PAGE}, default ${DEFAULT_ALERTS_PAGE}`,
  })
  @ApiOkResponse({ type: [AlertResponse] })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: 'limit out of range or not an integer',
  })
  alerts(
    // Not DefaultValuePipe: the global ValidationPipe has already made "ten" NaN, which it would take for "no value".
    @Query(
      'limit',
      new ParseIntPipe({ optional: true, exceptionFactory: limitError }),
    )
    limit: number = DEFAULT_ALERTS_PAGE,
  ): Promise<Alert[]> {
    if (limit < 1 || limit > MAX_ALERTS_PAGE) throw limitError();
    return this.reports.alerts(limit);
  }
}

function limitError(): BadRequestException {
  return new BadRequestException(
    `limit must be an integer from 1 to ${MAX_ALERTS_PAGE}`,
  );
}
