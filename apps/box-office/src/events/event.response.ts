import { ApiProperty } from '@nestjs/swagger';
import type { TicketedEvent } from './event.js';

export class EventResponse implements TicketedEvent {
  @ApiProperty({ example: 'Womens Judo' }) name!: string;
  @ApiProperty({ example: 20 }) price!: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Null: unlimited',
    example: 500,
  })
  capacity!: number | null;
  @ApiProperty({
    type: 'integer',
    description: 'Tickets sold so far',
    example: 12,
  })
  sold!: number;
}
