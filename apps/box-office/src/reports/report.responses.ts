import { ApiProperty } from '@nestjs/swagger';
import { HISTOGRAM_ENCODINGS, type HistogramEncoding } from '@podium/orders';

export class EventSalesResponse {
  @ApiProperty({ example: 'Womens Judo' }) event!: string;
  @ApiProperty({ description: 'Sum of the costs of its orders', example: 240 })
  totalSales!: number;
  @ApiProperty({ type: 'integer', example: 12 }) ticketsSold!: number;
  @ApiProperty({ type: 'integer', example: 5 }) orders!: number;
}

export class HistogramResponse {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Null: all events',
    example: 'Womens Judo',
  })
  event!: string | null;
  @ApiProperty({ enum: [...HISTOGRAM_ENCODINGS] }) encoding!: HistogramEncoding;
  @ApiProperty({
    type: [Number],
    description: 'Tickets sold in each hour of the day, UTC, index 0 to 23',
    minItems: 24,
    maxItems: 24,
  })
  hours!: number[];
}

export class OrderResponse {
  @ApiProperty({ example: 'K3V9Q2M7X1AB' }) orderId!: string;
  @ApiProperty({ example: 'ann' }) who!: string;
  @ApiProperty({ type: 'integer', example: 2 }) qty!: number;
  @ApiProperty({ description: 'Decimal text, as stored', example: '40' })
  cost!: string;
  @ApiProperty({ example: 'Womens Judo' }) event!: string;
  @ApiProperty({
    type: 'integer',
    description: 'Epoch seconds',
    example: 1785000000,
  })
  ts!: number;
}

export class AlertResponse {
  @ApiProperty({ example: 'K3V9Q2M7X1AB' }) orderId!: string;
  @ApiProperty({ example: 'Womens Judo' }) event!: string;
  @ApiProperty({ type: 'integer', example: 2 }) qty!: number;
  @ApiProperty({ example: '40' }) cost!: string;
  @ApiProperty({ type: 'integer', example: 1785000000 }) ts!: number;
  @ApiProperty({ example: 'Purchase Womens Judo: #2 $40' }) message!: string;
}
