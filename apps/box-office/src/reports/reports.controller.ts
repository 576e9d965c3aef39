import { BadRequestException, Controller, DefaultValuePipe, Get, Param, ParseIntPipe, Query } from '@nestjs/common';
import type { Alert } from '@podium/listeners';
import type { Order } from '@podium/orders';
import { ReportsService, type EventSales, type Histogram } from './reports.service.js';

export const MAX_ALERTS_PAGE = 1000;

/** The read API over the listeners' metrics. */
@Controller()
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('metrics/sales')
  sales(): Promise<EventSales[]> {
    return this.reports.sales();
  }

  /** The 24 hourly ticket counts of one event, or of all events without ?event=. */
  @Get('metrics/histogram')
  histogram(@Query('event') event?: string): Promise<Histogram> {
    return this.reports.histogram(event);
  }

  @Get('customers/:who/invoices')
  invoices(@Param('who') who: string): Promise<Order[]> {
    return this.reports.invoices(who);
  }

  @Get('lottery/winners')
  lotteryWinners(): Promise<Order[]> {
    return this.reports.lotteryWinners();
  }

  /** The most recent alerts first. */
  @Get('alerts')
  alerts(
    @Query('limit', new DefaultValuePipe(20), new ParseIntPipe({ exceptionFactory: limitError }))
    limit: number,
  ): Promise<Alert[]> {
    if (limit < 1 || limit > MAX_ALERTS_PAGE) throw limitError();
    return this.reports.alerts(limit);
  }
}

function limitError(): BadRequestException {
  return new BadRequestException(`limit must be an integer from 1 to ${MAX_ALERTS_PAGE}`);
}
