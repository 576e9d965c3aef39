import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsName } from '../../input/is-name.validator.js';

export class CreateEventDto {
  /** Free text; glob characters are fine (they are escaped where it matters). */
  @ApiProperty({
    description:
      'Free text; glob characters are fine; no control characters, line breaks or invalid Unicode',
    example: 'Womens Judo',
    maxLength: 200,
  })
  @IsString()
  @IsNotEmpty()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(200)
  @IsName()
  name!: string;

  /** Ticket price, at most two decimals. */
  @ApiProperty({
    description: 'Ticket price, at most two decimals',
    example: 20,
    minimum: 0,
    maximum: 1_000_000,
  })
  @IsNumber({ maxDecimalPlaces: 2, allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1_000_000)
  price!: number;

  /** Tickets on sale; unlimited when absent. */
  @ApiPropertyOptional({
    description: 'Tickets on sale; unlimited when absent',
    example: 500,
    minimum: 1,
    type: 'integer',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  capacity?: number;
}
