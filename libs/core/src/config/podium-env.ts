import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import {
  DELIVERY_MODES,
  GROUP_NAME,
  isDeliveryMode,
  type DeliveryMode,
} from './delivery-mode.js';
import {
  DEFAULT_LIVENESS_TIMEOUT_MS,
  redisTargetFrom,
  type RedisTarget,
} from '@podium/redis';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : value;

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** pino's level names; `info` is Nest's `log`, `trace` is Nest's `verbose`. */
export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable podium reads, validated once at start-up: a bad value stops
 * the process with a message naming the variable. The README's configuration table
 * mirrors this class.
 */
export class PodiumEnv {
  @Matches(/^rediss?:\/\/.+/, {
    message: 'REDIS_URL must look like redis://host:port or rediss://host:port',
  })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * Sentinel: `host:port,host:port` (IPv6 in brackets) and the name they monitor the
   * primary by. Set, every connection goes to the primary the Sentinels name, and REDIS_URL
   * gives only the data nodes' credentials, database and TLS (its host and port are unused).
   * Checked in validatePodiumEnv (one without the other stops start-up).
   */
  @IsOptional()
  @IsString()
  REDIS_SENTINELS?: string;

  @IsOptional()
  @IsString()
  REDIS_SENTINEL_NAME?: string;

  /** For Sentinels that need a password (requirepass on the Sentinels). */
  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  /**
   * Redis Cluster: `host:port,host:port` of some of its nodes (IPv6 in brackets). Set, every
   * connection goes to the cluster, keys are laid out for it (Keyspace), and REDIS_URL gives
   * only the credentials and TLS (its host and port are unused; a cluster has database 0).
   */
  @IsOptional()
  @IsString()
  REDIS_CLUSTER_NODES?: string;

  /**
   * Recording a message succeeds only once this many replicas have it (and its durable
   * jobs): Redis WAIT after the writes. 0: as soon as the primary has them.
   */
  @Transform(toInt)
  @IsInt({ message: 'REDIS_WAIT_REPLICAS must be an integer' })
  @Min(0, { message: 'REDIS_WAIT_REPLICAS must be at least 0' })
  @Max(100, { message: 'REDIS_WAIT_REPLICAS must be at most 100' })
  REDIS_WAIT_REPLICAS = 0;

  /**
   * How long WAIT waits for them; recording then fails (the message is on the primary, a
   * retry with the same Idempotency-Key is safe). Below the 2 s deadline of a failFast
   * app's commands, which WAIT blocks meanwhile.
   */
  @Transform(toInt)
  @IsInt({ message: 'REDIS_WAIT_TIMEOUT_MS must be an integer' })
  @Min(1, { message: 'REDIS_WAIT_TIMEOUT_MS must be at least 1' })
  @Max(1500, {
    message:
      'REDIS_WAIT_TIMEOUT_MS must be at most 1500 (a failFast app gives every Redis command 2 s)',
  })
  REDIS_WAIT_TIMEOUT_MS = 500;

  /**
   * How long any Redis connection may answer nothing (a heartbeat PING sent meanwhile)
   * before it is dropped and made again: a NAT, a load balancer or a cloud network can
   * forget a connection without closing it. Also TCP keepalive starts after half of it.
   */
  @Transform(toInt)
  @IsInt({ message: 'REDIS_LIVENESS_TIMEOUT_MS must be an integer' })
  @Min(1000, { message: 'REDIS_LIVENESS_TIMEOUT_MS must be at least 1000' })
  @Max(600_000, {
    message: 'REDIS_LIVENESS_TIMEOUT_MS must be at most 600000',
  })
  REDIS_LIVENESS_TIMEOUT_MS = DEFAULT_LIVENESS_TIMEOUT_MS;

  /** Where every connection goes, from REDIS_URL and the REDIS_SENTINEL* variables (see RedisTarget). */
  redisTarget!: RedisTarget;

  @Transform(toInt)
  @IsInt({ message: 'PORT must be an integer' })
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Comma-separated listener names this process runs; empty means all of them. */
  @IsOptional()
  @IsString()
  LISTENERS?: string;

  /** Default delivery mode of the listeners in this process; DELIVERY_<NAME> overrides it per listener. */
  @IsIn(DELIVERY_MODES, {
    message: `DELIVERY must be one of ${DELIVERY_MODES.join(', ')}`,
  })
  DELIVERY: DeliveryMode = 'ephemeral';

  /** Per-listener modes, from DELIVERY_<NAME> variables (DELIVERY_SALES_HISTOGRAM=durable). */
  deliveryOverrides: Record<string, DeliveryMode> = {};

  /**
   * Per-listener groups, from DELIVERY_GROUP_<NAME> variables (DELIVERY_GROUP_SLOW_INVOICES=slow).
   * A listener's group defaults to the name of its mode: one group per mode and process.
   */
  groupOverrides: Record<string, string> = {};

  /**
   * Announcements a listeners process works on at once (ephemeral: handled; queued and
   * durable: being enqueued). At the cap it stops reading its subscriber connection, so the
   * backlog waits in Redis rather than in the process's memory.
   */
  @Transform(toInt)
  @IsInt({ message: 'MAX_IN_FLIGHT must be an integer' })
  @Min(1)
  @Max(100_000)
  MAX_IN_FLIGHT = 1000;

  /** Jobs one worker runs at once, per queued or durable group (a group's listeners share a worker). */
  @Transform(toInt)
  @IsInt({ message: 'QUEUE_CONCURRENCY must be an integer' })
  @Min(1)
  @Max(1000)
  QUEUE_CONCURRENCY = 16;

  /** Tries per job before it lands in the failed set. */
  @Transform(toInt)
  @IsInt({ message: 'QUEUE_ATTEMPTS must be an integer' })
  @Min(1)
  QUEUE_ATTEMPTS = 5;

  /** First retry delay; it doubles with each try. */
  @Transform(toInt)
  @IsInt({ message: 'QUEUE_BACKOFF_MS must be an integer' })
  @Min(0)
  QUEUE_BACKOFF_MS = 200;

  /**
   * A worker's lock on a job; renewed every half of it while the job runs. When a process
   * dies, its jobs run again once the lock expires and a stalled check sees it (so within
   * about QUEUE_LOCK_MS + 2 x QUEUE_STALLED_CHECK_MS). BullMQ's default is 30 s.
   */
  @Transform(toInt)
  @IsInt({ message: 'QUEUE_LOCK_MS must be an integer' })
  @Min(1000)
  QUEUE_LOCK_MS = 5000;

  @Transform(toInt)
  @IsInt({ message: 'QUEUE_STALLED_CHECK_MS must be an integer' })
  @Min(500)
  QUEUE_STALLED_CHECK_MS = 2000;

  /**
   * The outbox: a message recorded (or claimed) for a durable group whose job is still
   * missing this long after is queued by a relay. The publisher normally queues within
   * milliseconds; shorter than its slowest request, a message is queued twice (harmless:
   * every listener applies it once, by its applied marker).
   */
  @Transform(toInt)
  @IsInt({ message: 'OUTBOX_GRACE_MS must be an integer' })
  @Min(100, { message: 'OUTBOX_GRACE_MS must be at least 100' })
  @Max(3_600_000, {
    message: 'OUTBOX_GRACE_MS must be at most 3600000 (an hour)',
  })
  OUTBOX_GRACE_MS = 5000;

  /** How often each relay (publisher, listeners process with durable listeners) looks at the outbox. */
  @Transform(toInt)
  @IsInt({ message: 'OUTBOX_RELAY_INTERVAL_MS must be an integer' })
  @Min(50, { message: 'OUTBOX_RELAY_INTERVAL_MS must be at least 50' })
  @Max(60_000, { message: 'OUTBOX_RELAY_INTERVAL_MS must be at most 60000' })
  OUTBOX_RELAY_INTERVAL_MS = 1000;

  /** A relay logs a warning while the oldest outbox entry is older than this: relays are failing or none runs. */
  @Transform(toInt)
  @IsInt({ message: 'OUTBOX_WARN_AGE_SECONDS must be an integer' })
  @Min(1, { message: 'OUTBOX_WARN_AGE_SECONDS must be at least 1' })
  OUTBOX_WARN_AGE_SECONDS = 30;

  /**
   * How long a listener remembers that it applied a message. A redelivery later than this
   * would be applied again; BullMQ retries and redeliveries come long before.
   */
  @Transform(toInt)
  @IsInt({ message: 'APPLIED_MARKER_TTL_SECONDS must be an integer' })
  @Min(60)
  APPLIED_MARKER_TTL_SECONDS = 7 * 24 * 3600;

  /** `pretty`: Nest's coloured console lines (development); `json`: one JSON object per line (pino). */
  @IsIn(LOG_FORMATS, {
    message: `LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}`,
  })
  LOG_FORMAT: LogFormat = 'pretty';

  /** The least severe level written. */
  @IsIn(LOG_LEVELS, {
    message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`,
  })
  LOG_LEVEL: LogLevelName = 'info';

  /** The listeners process's HTTP port (/health, /metrics, /docs); 0 picks a free one. */
  @Transform(toInt)
  @IsInt({ message: 'HEALTH_PORT must be an integer' })
  @Min(0)
  @Max(65535)
  HEALTH_PORT = 3001;

  /**
   * The operator's user name and password (HTTP basic authentication) for everything that
   * changes configuration or replays work: POST /events, the failed lists and their retries,
   * the queue dashboard. Without both, those endpoints answer 403.
   */
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x39\x3b-\x7e]{1,100}$/, {
    message:
      'OPERATOR_USER must be 1 to 100 printable ASCII characters, without ":" or spaces',
  })
  OPERATOR_USER?: string;

  @IsOptional()
  @IsString()
  @MinLength(12, {
    message: 'OPERATOR_PASSWORD must be at least 12 characters',
  })
  @MaxLength(200, {
    message: 'OPERATOR_PASSWORD must be at most 200 characters',
  })
  OPERATOR_PASSWORD?: string;

  /** Purchases one client (IP address) may make per minute, per box office process; 0 turns the limit off. */
  @Transform(toInt)
  @IsInt({ message: 'PURCHASE_RATE_LIMIT must be an integer' })
  @Min(0)
  PURCHASE_RATE_LIMIT = 600;

  /** Events (POST /events) one client may create per minute, per box office process; 0 turns the limit off. */
  @Transform(toInt)
  @IsInt({ message: 'EVENT_RATE_LIMIT must be an integer' })
  @Min(0)
  EVENT_RATE_LIMIT = 60;

  /**
   * How many reverse proxies stand in front of the box office. With 0 the client is the
   * TCP peer; behind a load balancer set 1, or every client shares the proxy's rate limit.
   */
  @Transform(toInt)
  @IsInt({ message: 'TRUST_PROXY must be an integer' })
  @Min(0)
  @Max(10)
  TRUST_PROXY = 0;
}

export function validatePodiumEnv(raw: Record<string, unknown>): PodiumEnv {
  // Unset and empty variables take the defaults above.
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''),
  );
  const env = plainToInstance(PodiumEnv, present, {
    exposeDefaultValues: true,
  });
  const errors = validateSync(env, { skipMissingProperties: false });
  const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
  if (!errors.some((e) => /^REDIS_(URL|SENTINEL)/.test(e.property))) {
    try {
      env.redisTarget = redisTargetFrom(env);
    } catch (err) {
      messages.push((err as Error).message);
    }
  }
  messages.push(...operatorCredentialProblems(present));
  for (const [name, value] of Object.entries(present)) {
    if (/^DELIVERY_GROUP_[A-Z0-9_]+$/.test(name)) {
      if (typeof value === 'string' && GROUP_NAME.test(value))
        env.groupOverrides[name] = value;
      else
        messages.push(
          `${name} must be a group name: lower-case letters, digits and "-", starting with a letter`,
        );
    } else if (/^DELIVERY_[A-Z0-9_]+$/.test(name)) {
      if (typeof value === 'string' && isDeliveryMode(value))
        env.deliveryOverrides[name] = value;
      else messages.push(`${name} must be one of ${DELIVERY_MODES.join(', ')}`);
    }
  }
  if (messages.length > 0)
    throw new Error(`Invalid configuration: ${messages.join('; ')}`);
  return env;
}

/** The operator's credentials come as a pair; the dashboard's own pair is gone. */
function operatorCredentialProblems(
  present: Record<string, unknown>,
): string[] {
  const problems: string[] = [];
  const retired = ['DASHBOARD_USER', 'DASHBOARD_PASSWORD'].filter(
    (name) => name in present,
  );
  if (retired.length > 0) {
    problems.push(
      `${retired.join(' and ')} ${retired.length > 1 ? 'were' : 'was'} replaced by OPERATOR_USER and OPERATOR_PASSWORD`,
    );
  }
  const user = 'OPERATOR_USER' in present;
  const password = 'OPERATOR_PASSWORD' in present;
  if (user !== password)
    problems.push(
      `OPERATOR_USER and OPERATOR_PASSWORD go together: ${user ? 'OPERATOR_PASSWORD' : 'OPERATOR_USER'} is not set`,
    );
  return problems;
}

/** Parses LISTENERS ("a,b") into names; undefined when all listeners should run. */
export function parseListenerNames(
  value: string | undefined,
): string[] | undefined {
  const names = (value ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return names.length > 0 ? names : undefined;
}
