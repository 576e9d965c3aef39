import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorResponse, OperatorOnly } from '@podium/core';
import { FailedOrder, ListenerStatus, RetryResult } from './listener-status.js';
import { ListenersService } from './listeners.service.js';

const unknownListener = ApiNotFoundResponse({
  type: ErrorResponse,
  description: 'No listener of that name has run against this Redis',
});
const listenerName = ApiParam({ name: 'name', example: 'sales-summary' });

/** Operating the listeners: their modes and counters (open), and their failed orders (operator only). */
@ApiTags('listeners')
@Controller('listeners')
export class ListenersController {
  constructor(private readonly listeners: ListenersService) {}

  @Get()
  @ApiOperation({
    summary:
      'Every listener a listeners process announced, with its mode, counters and queue depth',
  })
  @ApiOkResponse({ type: [ListenerStatus] })
  list(): Promise<ListenerStatus[]> {
    return this.listeners.list();
  }

  /** Orders that failed for good, with their errors (queued and durable: the group queue's failed jobs; ephemeral: its failed set). */
  @Get(':name/failed')
  @OperatorOnly()
  @ApiOperation({
    summary:
      'Orders that failed every try (queued and durable listeners), with their errors; operator only',
  })
  @listenerName
  @ApiOkResponse({ type: [FailedOrder] })
  @unknownListener
  failed(@Param('name') name: string): Promise<FailedOrder[]> {
    return this.listeners.failed(name);
  }

  /** Runs the failed orders again, once the cause is fixed. */
  @Post(':name/failed/retry')
  @HttpCode(200)
  @OperatorOnly()
  @ApiOperation({
    summary:
      'Runs the failed orders of a listener again, once the cause is fixed; operator only',
  })
  @listenerName
  @ApiOkResponse({ type: RetryResult })
  @unknownListener
  async retry(@Param('name') name: string): Promise<RetryResult> {
    return { retried: await this.listeners.retryFailed(name) };
  }
}
