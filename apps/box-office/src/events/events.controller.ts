import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponse } from '@podium/observability';
import { CreateEventDto } from './dto/create-event.dto.js';
import type { TicketedEvent } from './event.js';
import { EventResponse } from './event.response.js';
import { EventsService } from './events.service.js';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Creates an event (hash events:<name>)' })
  @ApiCreatedResponse({ type: EventResponse })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'A field is missing or invalid, or the body is not JSON' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'An event of that name exists' })
  @ApiPayloadTooLargeResponse({ type: ErrorResponse, description: 'The body is larger than 16 KiB' })
  create(@Body() dto: CreateEventDto): Promise<TicketedEvent> {
    return this.events.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'Every event, including those other programs created (scan of events:*)' })
  @ApiOkResponse({ type: [EventResponse] })
  list(): Promise<TicketedEvent[]> {
    return this.events.list();
  }
}
