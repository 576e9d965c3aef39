import type { Telemetry } from 'bullmq';
import type { Registry } from 'prom-client';
import {
  deliveryVariable,
  groupVariable,
  listenerOfVariable,
  type DeliveryMode,
} from '../config/delivery-mode.js';
import { validatePodiumEnv, type PodiumEnv } from '../config/podium-env.js';
import type { PodiumSettings } from '../config/podium-settings.js';

/** Where Redis is: one server (url), Sentinel (sentinels and sentinelName) or a Cluster (clusterNodes). */
export interface PodiumRedisOptions {
  /**
   * `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. With Sentinel or a
   * Cluster it gives only the credentials, the database and TLS. Default
   * `redis://127.0.0.1:6379`.
   */
  url?: string;
  /** Sentinels, `host:port` each (IPv6 in brackets); with sentinelName. */
  sentinels?: string[];
  /** The name the Sentinels monitor the primary by. */
  sentinelName?: string;
  /** For Sentinels that need a password. */
  sentinelPassword?: string;
  /** Some nodes of a Redis Cluster, `host:port` each. */
  clusterNodes?: string[];
  /** A write answers only once this many replicas have it (Redis WAIT). Default 0. */
  waitReplicas?: number;
  /** How long WAIT waits, 1 to 1,500 ms. Default 500. */
  waitTimeoutMs?: number;
  /** A connection that answers nothing this long (a PING sent meanwhile) is made again. Default 8,000 ms. */
  livenessTimeoutMs?: number;
}

/** How the listeners of this app are delivered (see the README's delivery modes). */
export interface PodiumDeliveryOptions {
  /** The mode of every listener that neither its decorator nor `modes` gives one. Default `ephemeral`. */
  defaultMode?: DeliveryMode;
  /** Per listener name: its mode, over what its decorator says. */
  modes?: Record<string, DeliveryMode>;
  /** Per listener name: its group (one BullMQ queue and worker per queued or durable group). */
  groups?: Record<string, string>;
  /** The listeners this process runs, by name; all of them when not given. */
  only?: string[];
  /** Announcements worked on at once before the subscriber stops reading. Default 1,000. */
  maxInFlight?: number;
  /** How long a listener remembers it applied a message. Default 7 days. */
  appliedMarkerTtlSeconds?: number;
}

/** The BullMQ queues of queued and durable groups. */
export interface PodiumQueueOptions {
  /** Jobs one group's worker runs at once. Default 16. */
  concurrency?: number;
  /** Tries per job before it lands in the failed set. Default 5. */
  attempts?: number;
  /** First retry delay, doubling with each try. Default 200 ms. */
  backoffMs?: number;
  /** A worker's lock on a job. Default 5,000 ms. */
  lockMs?: number;
  /** How often stalled jobs are looked for. Default 2,000 ms. */
  stalledCheckMs?: number;
  /**
   * BullMQ's telemetry, given as it is to every queue and worker (`new BullMQOtel('podium')`
   * from bullmq-otel): each job then has BullMQ's spans, in the trace of the messages it
   * carries. None by default.
   */
  telemetry?: Telemetry;
}

/** The outbox: jobs of durable groups recorded but not yet queued (see OutboxRelay). */
export interface PodiumOutboxOptions {
  /** How old an entry gets before a relay queues its job. Default 5,000 ms. */
  graceMs?: number;
  /** How often a relay looks. Default 1,000 ms. */
  relayIntervalMs?: number;
  /** A relay warns while the oldest entry is older than this. Default 30 s. */
  warnAgeSeconds?: number;
}

/** PodiumModule's options: everything but `redis` has a default. */
export interface PodiumModuleOptions {
  redis: PodiumRedisOptions;
  delivery?: PodiumDeliveryOptions;
  queue?: PodiumQueueOptions;
  outbox?: PodiumOutboxOptions;
  /** podium's metrics register in this prom-client registry (the app's); a private one otherwise. */
  metrics?: { registry?: Registry };
}

/** Options that a podium app cannot start with: the message names the option. */
export class PodiumOptionsError extends Error {
  override name = 'PodiumOptionsError';
}

type Scalar = string | number | undefined;

/** Each option that one environment variable of the podium apps sets, by section. */
const VARIABLES = {
  redis: {
    url: 'REDIS_URL',
    sentinels: 'REDIS_SENTINELS',
    sentinelName: 'REDIS_SENTINEL_NAME',
    sentinelPassword: 'REDIS_SENTINEL_PASSWORD',
    clusterNodes: 'REDIS_CLUSTER_NODES',
    waitReplicas: 'REDIS_WAIT_REPLICAS',
    waitTimeoutMs: 'REDIS_WAIT_TIMEOUT_MS',
    livenessTimeoutMs: 'REDIS_LIVENESS_TIMEOUT_MS',
  },
  delivery: {
    defaultMode: 'DELIVERY',
    only: 'LISTENERS',
    maxInFlight: 'MAX_IN_FLIGHT',
    appliedMarkerTtlSeconds: 'APPLIED_MARKER_TTL_SECONDS',
  },
  queue: {
    concurrency: 'QUEUE_CONCURRENCY',
    attempts: 'QUEUE_ATTEMPTS',
    backoffMs: 'QUEUE_BACKOFF_MS',
    lockMs: 'QUEUE_LOCK_MS',
    stalledCheckMs: 'QUEUE_STALLED_CHECK_MS',
  },
  outbox: {
    graceMs: 'OUTBOX_GRACE_MS',
    relayIntervalMs: 'OUTBOX_RELAY_INTERVAL_MS',
    warnAgeSeconds: 'OUTBOX_WARN_AGE_SECONDS',
  },
} as const;

/** The options that are lists: their variables hold them comma-separated. */
const LISTS = ['redis.sentinels', 'redis.clusterNodes', 'delivery.only'];

/** Each option given, the environment variable of the podium apps that sets the same thing, and its value. */
function variables(options: PodiumModuleOptions): [string, string, Scalar][] {
  const table: [string, string, Scalar][] = [];
  for (const [section, names] of Object.entries(VARIABLES)) {
    const given = (options[section as keyof typeof VARIABLES] ?? {}) as Record<
      string,
      unknown
    >;
    for (const [key, variable] of Object.entries(names)) {
      const value = given[key];
      table.push([
        `${section}.${key}`,
        variable,
        Array.isArray(value) ? value.join(',') : (value as Scalar),
      ]);
    }
  }
  for (const [option, variable] of [
    ['modes', deliveryVariable],
    ['groups', groupVariable],
  ] as const)
    for (const [listener, value] of Object.entries(
      options.delivery?.[option] ?? {},
    ))
      table.push([
        `delivery.${option}["${listener}"]`,
        variable(listener),
        value,
      ]);
  return table;
}

const KNOWN: Record<string, readonly string[]> = {
  '': ['redis', 'delivery', 'queue', 'outbox', 'metrics'],
  ...Object.fromEntries(
    Object.entries(VARIABLES).map(([section, names]) => [
      section,
      Object.keys(names),
    ]),
  ),
  delivery: [...Object.keys(VARIABLES.delivery), 'modes', 'groups'],
  queue: [...Object.keys(VARIABLES.queue), 'telemetry'],
  metrics: ['registry'],
};

/** Options a typo made or a type does not allow: JavaScript callers and JSON get no compiler. */
function shapeProblems(options: unknown): string[] {
  if (typeof options !== 'object' || options === null)
    return ['the options must be an object'];
  const problems: string[] = [];
  const record = options as Record<string, unknown>;
  if (record.redis === undefined)
    problems.push(
      'redis is missing: give redis.url, redis.sentinels with redis.sentinelName, or redis.clusterNodes',
    );
  for (const [section, known] of Object.entries(KNOWN)) {
    const value = section ? record[section] : record;
    if (value === undefined) continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${section} must be an object`);
      continue;
    }
    for (const key of Object.keys(value))
      if (!known.includes(key))
        problems.push(
          `${section ? `${section}.` : ''}${key} is not an option (known: ${known.join(', ')})`,
        );
  }
  for (const path of LISTS) {
    const [section, key] = path.split('.');
    const value = (record[section] as Record<string, unknown> | undefined)?.[
      key
    ];
    if (
      value !== undefined &&
      !(Array.isArray(value) && value.every((v) => typeof v === 'string'))
    )
      problems.push(`${path} must be an array of strings`);
  }
  const telemetry = (record.queue as Record<string, unknown> | undefined)
    ?.telemetry as Partial<Telemetry> | undefined;
  if (
    telemetry !== undefined &&
    (typeof telemetry?.tracer?.startSpan !== 'function' ||
      typeof telemetry.contextManager?.with !== 'function')
  )
    problems.push(
      "queue.telemetry must be BullMQ's Telemetry (a tracer and a contextManager), such as bullmq-otel's BullMQOtel",
    );
  return problems;
}

/**
 * Checks the options and resolves their defaults, by the same rules the podium apps'
 * environment variables are checked by. Throws PodiumOptionsError with one line naming
 * every bad option.
 */
export function resolvePodiumSettings(
  options: PodiumModuleOptions,
): PodiumSettings {
  const shape = shapeProblems(options);
  if (shape.length > 0)
    throw new PodiumOptionsError(`podium options: ${shape.join('; ')}`);
  const table = variables(options);
  const raw: Record<string, string> = {};
  for (const [option, variable, value] of table) {
    if (value === undefined) continue;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      shape.push(`${option} must be a finite number`);
      continue;
    }
    raw[variable] = String(value);
  }
  if (shape.length > 0)
    throw new PodiumOptionsError(`podium options: ${shape.join('; ')}`);
  try {
    return validatePodiumEnv(raw);
  } catch (err) {
    // The rules speak of variables: name the options instead, longest name first.
    let message = (err as Error).message.replace(
      /^Invalid configuration: /,
      '',
    );
    for (const [option, variable] of [...table].sort(
      (a, b) => b[1].length - a[1].length,
    ))
      message = message.replace(
        new RegExp(`\\b${variable}\\b`, 'g'),
        () => option,
      );
    throw new PodiumOptionsError(`podium options: ${message}`);
  }
}

/**
 * The options the podium apps' environment variables give (REDIS_URL, DELIVERY,
 * DELIVERY_<NAME>, QUEUE_*, ...; see the README's configuration table): what the apps pass
 * to PodiumModule. An app of your own reads its configuration its own way.
 */
export function podiumOptionsFromEnv(env: PodiumEnv): PodiumModuleOptions {
  const options: Record<string, Record<string, unknown>> = {};
  for (const [section, names] of Object.entries(VARIABLES)) {
    options[section] = {};
    for (const [key, variable] of Object.entries(names)) {
      const value = env[variable];
      options[section][key] =
        LISTS.includes(`${section}.${key}`) && typeof value === 'string'
          ? value
              .split(',')
              .map((item) => item.trim())
              .filter(Boolean)
          : value;
    }
  }
  const byListener = (overrides: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(overrides).map(([variable, value]) => [
        listenerOfVariable(variable),
        value,
      ]),
    );
  options.delivery.modes = byListener(env.deliveryOverrides);
  options.delivery.groups = byListener(env.groupOverrides);
  return options as unknown as PodiumModuleOptions;
}
