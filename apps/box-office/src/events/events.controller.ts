import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ErrorResponse, OperatorOnly } from '@podium/core';
import { RateLimit } from '../rate-limit/rate-limit.js';
import { CreateEventDto } from './dto/create-event.dto.js';
import type { TicketedEvent } from './event.js';
import { EventResponse } from './event.response.js';
import { EventsService } from './events.service.js';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  // The guards run bottom-up: the rate limit counts before the credentials are checked, so
  // guessing them is limited too.
  @Post()
  @HttpCode(201)
  @OperatorOnly()
  @RateLimit('EVENT_RATE_LIMIT', 'new events')
  @ApiOperation({
    summary: 'Creates an event (hash events:<name>); operator only',
  })
  @ApiCreatedResponse({ type: EventResponse })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description:
      'A field is missing or invalid, a name with control characters or invalid Unicode, an unexpected field, or a body that is not a JSON object or nests too deeply',
  })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'An event of that name exists',
  })
  @ApiPayloadTooLargeResponse({
    type: ErrorResponse,
    description: 'The body is larger than 16 KiB',
  })
  @ApiUnsupportedMediaTypeResponse({
    type: ErrorResponse,
    description: 'The body is not UTF-8',
  })
  create(@Body() dto: CreateEventDto): Promise<TicketedEvent> {
    return this.events.create(dto);
  }

  @Get()
  @ApiOperation({
    summary:
      'Every event, including those other programs created (scan of events:*)',
  })
  @ApiOkResponse({ type: [EventResponse] })
  list(): Promise<TicketedEvent[]> {
    return this.events.list();
  }
}
