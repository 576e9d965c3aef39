import { ApiProperty } from '@nestjs/swagger';

/** The recorded order, as POST /purchases answers it. */
export class PurchaseResponse {
  @ApiProperty({
    description: "The order id (the announcement's payload)",
    example: 'K3V9Q2M7X1AB',
  })
  orderId!: string;

  @ApiProperty({ example: 'Womens Judo' })
  event!: string;

  @ApiProperty({ example: 2, type: 'integer' })
  qty!: number;

  @ApiProperty({ example: 'ann' })
  who!: string;

  @ApiProperty({
    description: "qty × the event's price, computed in cents by the server",
    example: 40,
  })
  cost!: number;

  @ApiProperty({
    description: 'When it was recorded, epoch seconds',
    example: 1785000000,
    type: 'integer',
  })
  ts!: number;
}
