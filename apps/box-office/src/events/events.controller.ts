import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { CreateEventDto } from './dto/create-event.dto.js';
import type { TicketedEvent } from './event.js';
import { EventsService } from './events.service.js';

@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @HttpCode(201)
  create(@Body() dto: CreateEventDto): Promise<TicketedEvent> {
    return this.events.create(dto);
  }

  @Get()
  list(): Promise<TicketedEvent[]> {
    return this.events.list();
  }
}
