import { hideUrlPassword, parseRedisUrl } from './redis-url.js';

export interface HostPort {
  host: string;
  port: number;
}

/** How every data connection logs in and what it selects: REDIS_URL's credentials, database and TLS. */
export interface RedisLogin {
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
}

/** What every kind of target has besides its addresses. */
interface TargetCommon {
  /**
   * How long a connection may answer nothing before it is replaced (REDIS_LIVENESS_TIMEOUT_MS;
   * ConnectionLiveness, default DEFAULT_LIVENESS_TIMEOUT_MS).
   */
  livenessTimeoutMs?: number;
}

/** One server at a fixed address (REDIS_URL alone; also a managed service's endpoint). */
export interface StandaloneTarget extends TargetCommon {
  kind: 'standalone';
  node: HostPort;
  login: RedisLogin;
  /** REDIS_URL without its password, for messages. */
  shown: string;
}

/** The primary that Sentinels know by `name` (REDIS_SENTINELS and REDIS_SENTINEL_NAME). */
export interface SentinelTarget extends TargetCommon {
  kind: 'sentinel';
  sentinels: HostPort[];
  /** The primary's name, as the Sentinels monitor it. */
  name: string;
  /** For Sentinels that ask for one (REDIS_SENTINEL_PASSWORD). */
  sentinelPassword?: string;
  login: RedisLogin;
}

/** A Redis Cluster, found from seed nodes (REDIS_CLUSTER_NODES). */
export interface ClusterTarget extends TargetCommon {
  kind: 'cluster';
  /** Nodes to start from; the client learns the others from them. */
  nodes: HostPort[];
  login: RedisLogin;
}

/**
 * Where podium's connections go, built once from the environment (redisTargetFrom) and
 * handed to createRedis by every caller, which never looks inside. A new kind is one more
 * member here, a case in redisTargetFrom, in connectionOptions (redis-connection.ts) and
 * in describeRedisTarget: the compiler points at each switch that lacks it.
 */
export type RedisTarget = StandaloneTarget | SentinelTarget | ClusterTarget;

/** The variables a target is built from (names fixed: deployment tools set them). */
export interface RedisTargetVariables {
  REDIS_URL: string;
  REDIS_SENTINELS?: string;
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_CLUSTER_NODES?: string;
  /** Validated by the app (PodiumEnv): milliseconds. */
  REDIS_LIVENESS_TIMEOUT_MS?: number;
}

/** A Sentinel primary name: printable, no spaces (Sentinel's config file is space-separated). */
const SENTINEL_NAME = /^[\x21-\x7e]{1,200}$/;

/**
 * The target the variables describe: Sentinel when REDIS_SENTINELS and REDIS_SENTINEL_NAME
 * are set (REDIS_URL then gives only credentials, database and TLS), else the one server
 * of REDIS_URL. Throws one message naming every variable that is wrong.
 */
export function redisTargetFrom(variables: RedisTargetVariables): RedisTarget {
  const problems: string[] = [];
  let url: ReturnType<typeof parseRedisUrl> | undefined;
  try {
    url = parseRedisUrl(variables.REDIS_URL);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const sentinels = present(variables.REDIS_SENTINELS);
  const name = present(variables.REDIS_SENTINEL_NAME);
  // A password is taken as it is, spaces included.
  const sentinelPassword = variables.REDIS_SENTINEL_PASSWORD || undefined;
  if ((sentinels === undefined) !== (name === undefined)) {
    problems.push(
      `REDIS_SENTINELS and REDIS_SENTINEL_NAME go together: ${sentinels === undefined ? 'REDIS_SENTINELS' : 'REDIS_SENTINEL_NAME'} is not set`,
    );
  }
  if (sentinelPassword !== undefined && sentinels === undefined) {
    problems.push(
      'REDIS_SENTINEL_PASSWORD is set but REDIS_SENTINELS is not (it is the password of the Sentinels)',
    );
  }
  let nodes: HostPort[] = [];
  if (sentinels !== undefined) {
    try {
      nodes = parseSentinels(sentinels);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (name !== undefined && !SENTINEL_NAME.test(name)) {
    problems.push(
      'REDIS_SENTINEL_NAME must be 1 to 200 printable characters without spaces',
    );
  }
  const clusterNodes = present(variables.REDIS_CLUSTER_NODES);
  if (clusterNodes !== undefined && sentinels !== undefined)
    problems.push(
      'REDIS_CLUSTER_NODES and REDIS_SENTINELS name two different deployments: set one of them',
    );
  let seeds: HostPort[] = [];
  if (clusterNodes !== undefined) {
    try {
      seeds = parseHostPorts('REDIS_CLUSTER_NODES', clusterNodes);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (clusterNodes !== undefined && url && url.db !== 0)
    problems.push(
      `REDIS_URL selects database ${url.db}, and a cluster has only database 0`,
    );
  if (problems.length > 0 || !url) throw new Error(problems.join('; '));
  const { host, port, ...login } = url;
  const common: TargetCommon =
    variables.REDIS_LIVENESS_TIMEOUT_MS === undefined
      ? {}
      : { livenessTimeoutMs: variables.REDIS_LIVENESS_TIMEOUT_MS };
  if (clusterNodes !== undefined)
    return { kind: 'cluster', nodes: seeds, login, ...common };
  if (sentinels !== undefined && name !== undefined) {
    return {
      ...common,
      kind: 'sentinel',
      sentinels: nodes,
      name,
      ...(sentinelPassword !== undefined && { sentinelPassword }),
      login,
    };
  }
  return {
    ...common,
    kind: 'standalone',
    node: { host, port },
    login,
    shown: hideUrlPassword(variables.REDIS_URL),
  };
}

/** The one server at `url` (tests, scripts, the bench). */
export function redisTargetFromUrl(url: string): RedisTarget {
  return redisTargetFrom({ REDIS_URL: url });
}

/**
 * REDIS_SENTINELS: `host:port,host:port`, an IPv6 address in brackets (`[::1]:26379`).
 * Spaces around the commas are allowed.
 */
export function parseSentinels(value: string): HostPort[] {
  return parseHostPorts('REDIS_SENTINELS', value);
}

/** A comma-separated list of host:port in the variable `name` (IPv6 in brackets). */
export function parseHostPorts(name: string, value: string): HostPort[] {
  const wrong = (detail: string) =>
    new Error(
      `${name} must be a comma-separated list of host:port (IPv6 in brackets: [::1]:26379): ${detail}`,
    );
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw wrong(`an empty entry`);
  const seen = new Set<string>();
  return entries.map((entry) => {
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/@]+)):(\d{1,5})$/.exec(
      entry,
    );
    const port = match ? Number(match[3]) : NaN;
    if (!match || port < 1 || port > 65535) throw wrong(`got "${entry}"`);
    const host = match[1] ?? match[2];
    if (match[1] !== undefined && !match[1].includes(':'))
      throw wrong(`"${entry}" is not an IPv6 address`);
    const key = `${host.toLowerCase()}:${port}`;
    if (seen.has(key)) throw wrong(`"${entry}" is listed twice`);
    seen.add(key);
    return { host, port };
  });
}

/** Where the target points, for log lines: never a password. */
export function describeRedisTarget(target: RedisTarget): string {
  switch (target.kind) {
    case 'standalone':
      return target.shown;
    case 'sentinel':
      return `primary "${target.name}" of Sentinels ${target.sentinels.map(formatHostPort).join(',')}`;
    case 'cluster':
      return `cluster of ${target.nodes.map(formatHostPort).join(',')}`;
  }
}

/** host:port, IPv6 in brackets. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
