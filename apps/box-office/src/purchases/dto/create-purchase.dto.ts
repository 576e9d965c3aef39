import { IsInt, IsNotEmpty, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** The most tickets one purchase may buy. */
export const MAX_TICKETS_PER_ORDER = 100;

export class CreatePurchaseDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  event!: string;

  @IsInt()
  @Min(1)
  @Max(MAX_TICKETS_PER_ORDER)
  qty!: number;

  @IsString()
  @IsNotEmpty()
  @Matches(/\S/, { message: 'who must not be blank' })
  @MaxLength(200)
  who!: string;
}
