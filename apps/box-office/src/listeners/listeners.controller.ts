import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ListenersService, type FailedOrder, type ListenerStatus } from './listeners.service.js';

/** Operating the listeners: their modes and counters, and their failed orders. */
@Controller('listeners')
export class ListenersController {
  constructor(private readonly listeners: ListenersService) {}

  @Get()
  list(): Promise<ListenerStatus[]> {
    return this.listeners.list();
  }

  /** Orders that failed every try (queued and durable listeners), with their errors. */
  @Get(':name/failed')
  failed(@Param('name') name: string): Promise<FailedOrder[]> {
    return this.listeners.failed(name);
  }

  /** Runs the failed orders again, once the cause is fixed. */
  @Post(':name/failed/retry')
  @HttpCode(200)
  async retry(@Param('name') name: string): Promise<{ retried: number }> {
    return { retried: await this.listeners.retryFailed(name) };
  }
}
