import { IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export class CreateEventDto {
  /** Free text; glob characters are fine (they are escaped where it matters). */
  @IsString()
  @IsNotEmpty()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(200)
  name!: string;

  /** Ticket price, at most two decimals. */
  @IsNumber({ maxDecimalPlaces: 2, allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1_000_000)
  price!: number;

  /** Tickets on sale; unlimited when absent. */
  @IsOptional()
  @IsInt()
  @Min(1)
  capacity?: number;
}
