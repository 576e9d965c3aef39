import { ApiProperty } from '@nestjs/swagger';
import {
  IsInt,
  IsNotEmpty,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsName } from '../../input/is-name.validator.js';

/** The most tickets one purchase may buy. */
export const MAX_TICKETS_PER_ORDER = 100;

export class CreatePurchaseDto {
  @ApiProperty({
    description: 'An existing event',
    example: 'Womens Judo',
    maxLength: 200,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @IsName()
  event!: string;

  @ApiProperty({
    description: 'Tickets',
    minimum: 1,
    maximum: MAX_TICKETS_PER_ORDER,
    example: 2,
    type: 'integer',
  })
  @IsInt()
  @Min(1)
  @Max(MAX_TICKETS_PER_ORDER)
  qty!: number;

  @ApiProperty({
    description:
      'The customer; no control characters, line breaks or invalid Unicode',
    example: 'ann',
    maxLength: 200,
  })
  @IsString()
  @IsNotEmpty()
  @Matches(/\S/, { message: 'who must not be blank' })
  @MaxLength(200)
  @IsName()
  who!: string;
}
