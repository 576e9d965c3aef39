import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import { HISTOGRAM_ENCODINGS, type HistogramEncoding } from '@podium/orders';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value);

/**
 * Every environment variable podium reads, validated once at start-up: a bad value stops
 * the process with a message naming the variable. The README's configuration table
 * mirrors this class.
 */
export class PodiumEnv {
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must look like redis://host:port or rediss://host:port' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @Transform(toInt)
  @IsInt({ message: 'PORT must be an integer' })
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Comma-separated listener names this process runs; empty means all of them. */
  @IsOptional()
  @IsString()
  LISTENERS?: string;

  @IsIn(HISTOGRAM_ENCODINGS, { message: `HISTOGRAM_ENCODING must be one of ${HISTOGRAM_ENCODINGS.join(', ')}` })
  HISTOGRAM_ENCODING: HistogramEncoding = 'u32';

  /** How many alerts the `alerts` list keeps (newest first). */
  @Transform(toInt)
  @IsInt({ message: 'ALERTS_MAX must be an integer' })
  @Min(1)
  ALERTS_MAX = 1000;

  /**
   * How long a listener remembers that it applied an order. A redelivery later than this
   * would be applied again; BullMQ retries and redeliveries come long before.
   */
  @Transform(toInt)
  @IsInt({ message: 'APPLIED_MARKER_TTL_SECONDS must be an integer' })
  @Min(60)
  APPLIED_MARKER_TTL_SECONDS = 7 * 24 * 3600;
}

export function validatePodiumEnv(raw: Record<string, unknown>): PodiumEnv {
  // Unset and empty variables take the defaults above.
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const env = plainToInstance(PodiumEnv, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false });
  if (errors.length > 0) {
    const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
    throw new Error(`Invalid configuration: ${messages.join('; ')}`);
  }
  return env;
}

/** Parses LISTENERS ("a,b") into names; undefined when all listeners should run. */
export function parseListenerNames(value: string | undefined): string[] | undefined {
  const names = (value ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  return names.length > 0 ? names : undefined;
}
