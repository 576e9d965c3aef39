import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

/**
 * How long a connection may answer nothing, a heartbeat PING sent meanwhile, before it is
 * dropped and made again (REDIS_LIVENESS_TIMEOUT_MS). With the check every half second, a
 * silent connection is replaced 8 to 8.5 s after its last answer.
 */
export const DEFAULT_LIVENESS_TIMEOUT_MS = 8000;

/** How long a socket podium ended waits for the peer to close its side (closeSoon). */
const FIN_WAIT_MS = 1000;

/** Why a connection was dropped. */
export type DropReason = 'silent';

/** A connection watched now, as /health/ready reports it when it is silent. */
export interface SilentConnection {
  /** Its connection name (CLIENT SETNAME): its role in the process. */
  connection: string;
  /** How long it has answered nothing. */
  silentMs: number;
  /** True once it was dropped and is being made again. */
  replaced: boolean;
}

/** The state of one watched connection (one ioredis client: a cluster's node is one). */
interface Watched {
  readonly name: string;
  /** When its socket last delivered a byte (or connected, or was paused by podium). */
  heardAt: number;
  /** A blocking command sent with this timeout may keep it quiet until then. */
  quietUntil: number;
  /** The heartbeat PING in flight, if any. */
  ping?: object;
  /** When it was dropped for silence, until it is ready again. */
  replacedAt?: number;
  /** Drops since it was last ready: only the first is logged as a warning. */
  dropsSinceReady: number;
}

/**
 * Blocking commands answer only when their timeout passes or data comes, so a connection
 * waiting in one is quiet by design: the timeout each gives, in ms (Infinity for none).
 */
const BLOCKING = new Map<string, (args: unknown[]) => number>([
  ['blpop', seconds(-1)],
  ['brpop', seconds(-1)],
  ['brpoplpush', seconds(-1)],
  ['blmove', seconds(-1)],
  ['bzpopmin', seconds(-1)],
  ['bzpopmax', seconds(-1)],
  ['blmpop', seconds(0)],
  ['bzmpop', seconds(0)],
  ['wait', millis(-1)],
  ['waitaof', millis(-1)],
  ['xread', blockOption],
  ['xreadgroup', blockOption],
]);

function seconds(at: number): (args: unknown[]) => number {
  return (args) => forever(Number(args.at(at)) * 1000);
}
function millis(at: number): (args: unknown[]) => number {
  return (args) => forever(Number(args.at(at)));
}
function blockOption(args: unknown[]): number {
  const at = args.findIndex((a) => String(a).toUpperCase() === 'BLOCK');
  return at < 0 ? 0 : forever(Number(args[at + 1]));
}
/** Redis' 0 (and garbage) means no timeout. */
function forever(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : Infinity;
}

/**
 * Checks that every connection podium makes still answers, as TCP alone does not: a NAT or
 * load balancer that forgets a connection, or a cloud network's idle cut, leaves it open
 * and silent (no FIN, no RST), and ioredis would wait on it for good.
 * - A connection that heard nothing for a quarter of the timeout gets a PING (also a
 *   subscribed one: Redis answers PING in the subscription stream). Any byte it receives
 *   counts as an answer, so a busy connection costs nothing.
 * - One that heard nothing for the whole timeout is dropped (its socket destroyed: ending
 *   it would wait for a FIN that never comes) and ioredis makes it again: it subscribes
 *   again, resends or fails what was in flight as the connection's kind says (createRedis).
 *   Logged once with its name and why, counted (replaced()), and silent() lists it for
 *   /health/ready until it is ready again.
 * - A connection waiting in a blocking command (BullMQ's BZPOPMIN, WAIT, XREAD BLOCK) is
 *   quiet by design until the command's timeout ends; its answer is then due at once, so
 *   it counts as silent a quarter of the bound after that (blockGraceMs). A stream podium
 *   paused (backpressure) counts as heard.
 * - The time this process's event loop was blocked does not count as silence.
 * One instance per target, so per app (livenessOf).
 */
export class ConnectionLiveness {
  private readonly logger = new Logger('RedisLiveness');
  private readonly watched = new Map<Redis, Watched>();
  private readonly drops = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private lastTick = 0;
  private readonly tickMs: number;

  constructor(readonly timeoutMs: number = DEFAULT_LIVENESS_TIMEOUT_MS) {
    this.tickMs = Math.min(500, Math.max(50, Math.floor(timeoutMs / 10)));
  }

  /**
   * How late a blocking command's answer may be after its timeout ended (Redis answers it
   * then, nil) before its connection counts as silent: a quarter of the bound.
   */
  get blockGraceMs(): number {
    return Math.max(500, Math.floor(this.timeoutMs / 4));
  }

  /** How long a connection may go unanswered before TCP keepalive probes start (seconds, not hours). */
  get keepAliveMs(): number {
    return Math.max(1000, Math.floor(this.timeoutMs / 2));
  }

  /** Watches a connection until it ends. */
  watch(redis: Redis, name: string): void {
    if (this.watched.has(redis)) return;
    const watched: Watched = {
      name,
      heardAt: Date.now(),
      quietUntil: 0,
      dropsSinceReady: 0,
    };
    this.watched.set(redis, watched);
    const onConnect = () => {
      watched.heardAt = Date.now();
      watched.quietUntil = 0;
      watched.ping = undefined;
      const stream = redis.stream;
      stream?.on('data', () => (watched.heardAt = Date.now()));
      stream?.once('finish', () => this.closeSoon(stream));
    };
    if (redis.stream && redis.status !== 'wait') onConnect();
    redis.on('connect', onConnect);
    redis.on('ready', () => {
      watched.replacedAt = undefined;
      watched.dropsSinceReady = 0;
    });
    redis.once('end', () => this.unwatch(redis));
    noteBlockingCommands(redis, watched);
    this.start();
  }

  /** Connections silent past the timeout, or dropped for it and not ready again. */
  silent(now = Date.now()): SilentConnection[] {
    const silent: SilentConnection[] = [];
    for (const [redis, w] of this.watched) {
      if (w.replacedAt !== undefined && redis.status !== 'ready')
        silent.push({
          connection: w.name,
          silentMs: now - w.replacedAt + this.timeoutMs,
          replaced: true,
        });
      else if (live(redis) && this.overdue(w, now))
        silent.push({
          connection: w.name,
          silentMs: now - w.heardAt,
          replaced: false,
        });
    }
    return silent;
  }

  /** Connections dropped so far, by connection name and reason. */
  replaced(): { connection: string; reason: DropReason; count: number }[] {
    return [...this.drops].map(([connection, count]) => ({
      connection,
      reason: 'silent',
      count,
    }));
  }

  private unwatch(redis: Redis): void {
    this.watched.delete(redis);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private start(): void {
    if (this.timer) return;
    this.lastTick = Date.now();
    this.timer = setInterval(() => this.tick(), this.tickMs).unref();
  }

  private tick(): void {
    const now = Date.now();
    // A blocked event loop read no socket meanwhile: that time is not the connections'.
    const stalled = now - this.lastTick - this.tickMs;
    this.lastTick = now;
    for (const [redis, w] of this.watched) {
      if (stalled > this.tickMs) w.heardAt = Math.min(now, w.heardAt + stalled);
      if (!live(redis)) continue;
      if (redis.stream?.isPaused()) {
        w.heardAt = now; // podium stopped reading it (backpressure), not the network
        continue;
      }
      if (this.overdue(w, now)) this.drop(redis, w, now - w.heardAt);
      else if (
        redis.status === 'ready' &&
        !w.ping &&
        now >= w.quietUntil &&
        now - w.heardAt >= this.timeoutMs / 4
      )
        this.heartbeat(redis, w);
    }
  }

  /**
   * Whether a connection's answer is overdue: nothing heard for the whole bound or, waiting
   * in a blocking command, for blockGraceMs past the command's timeout (it answers then).
   */
  private overdue(w: Watched, now: number): boolean {
    return w.quietUntil > w.heardAt
      ? now - w.quietUntil >= this.blockGraceMs
      : now - w.heardAt >= this.timeoutMs;
  }

  /**
   * A socket whose end podium sent (quit, disconnect; BullMQ's own watchdog drops a blocking
   * connection so) closes once the peer answers with its own; a silent peer never does,
   * and ioredis would wait for that close for good: destroy it after FIN_WAIT_MS.
   */
  private closeSoon(stream: NonNullable<Redis['stream']>): void {
    const timer = setTimeout(() => stream.destroy(), FIN_WAIT_MS).unref();
    stream.once('close', () => clearTimeout(timer));
  }

  private heartbeat(redis: Redis, w: Watched): void {
    const ping = {};
    w.ping = ping;
    const done = () => {
      if (w.ping === ping) w.ping = undefined;
    };
    redis.ping().then(done, done);
  }

  private drop(redis: Redis, w: Watched, silentMs: number): void {
    w.replacedAt = Date.now();
    w.dropsSinceReady += 1;
    this.drops.set(w.name, (this.drops.get(w.name) ?? 0) + 1);
    const line = `Redis connection ${w.name} answered nothing for ${(silentMs / 1000).toFixed(1)} s (a heartbeat PING unanswered): the network dropped it silently; replacing it`;
    if (w.dropsSinceReady === 1) this.logger.warn(line);
    else this.logger.debug(`${line} (again, #${w.dropsSinceReady})`);
    redis.stream?.destroy();
  }
}

/** Connecting (socket open, handshake in flight) or ready: a state in which silence means something. */
function live(redis: Redis): boolean {
  return redis.status === 'connect' || redis.status === 'ready';
}

/** Notes each blocking command's timeout as it is sent (ioredis sends every command through sendCommand). */
function noteBlockingCommands(redis: Redis, w: Watched): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, stream) => {
    const timeout = BLOCKING.get(command.name)?.(command.args);
    if (timeout !== undefined)
      w.quietUntil = Math.max(w.quietUntil, Date.now() + timeout);
    return send(command, stream);
  };
}

const byTarget = new WeakMap<object, ConnectionLiveness>();

/** The liveness watch of one target's connections (one per app: each app builds its target). */
export function livenessOf(target: {
  livenessTimeoutMs?: number;
}): ConnectionLiveness {
  let liveness = byTarget.get(target);
  if (!liveness) {
    liveness = new ConnectionLiveness(target.livenessTimeoutMs);
    byTarget.set(target, liveness);
  }
  return liveness;
}
