import { ServerRedis } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { createSubscriber, type RedisTarget } from '@podium/redis';

/**
 * Nest's Redis transport, set up for podium's wire format and for staying connected:
 * - every subscription is a PSUBSCRIBE (wildcards), so listeners may use glob patterns and
 *   exact channels are escaped globs: a connection never holds both a SUBSCRIBE and a
 *   matching PSUBSCRIBE, which would deliver a message twice;
 * - the payload is the bare message id, handed on as text (Nest would JSON.parse it, turning
 *   "00123" into 123 and a JSON object into a Nest packet);
 * - its two connections (sub, and pub for Nest's replies) are podium's own (createRedis),
 *   so they follow a failover as every other one does: they reconnect forever with a
 *   capped backoff, and ioredis subscribes again on reconnect (Nest's ServerRedis gives up
 *   after one dropped connection unless retryAttempts is set);
 * - it can stop reading (pause) while the process has too much in flight: the backlog then
 *   waits in Redis's output buffer for this connection. Past client-output-buffer-limit
 *   pubsub, Redis cuts the connection: that is logged as a warning and counted, and it
 *   subscribes again.
 */
export class AnnouncementTransport extends ServerRedis {
  private reconnects = 0;
  private closing?: Promise<void>;

  constructor(private readonly target: RedisTarget) {
    super({ wildcards: true });
    this.on('ready', (client: string) => {
      if (client === 'sub' && this.reconnects > 0) {
        this.logger.log(
          `Subscribed again after reconnect #${this.reconnects}: ${this.patterns().join(', ')}`,
        );
      }
    });
    this.on('reconnecting', (client: string) => {
      if (client !== 'sub' || this.isManuallyClosed) return;
      this.reconnects++;
      this.logger.warn(
        `Subscriber connection lost (#${this.reconnects}: Redis restarted or failed over, the network dropped it, or Redis ` +
          `cut it for passing client-output-buffer-limit pubsub): ephemeral listeners miss what is announced until it is back`,
      );
    });
  }

  /** Nest types its subscriber connection as any: it is a plain ioredis connection (createSubscriber). */
  private get subscriber(): Redis | undefined {
    return this.subClient as Redis | undefined;
  }

  /** Stops reading announcements (they wait in Redis and the socket buffers). */
  pause(): void {
    this.subscriber?.stream?.pause();
  }

  resume(): void {
    this.subscriber?.stream?.resume();
  }

  /** The patterns this process subscribes to (one per distinct listener subscription). */
  patterns(): string[] {
    return [...this.getHandlers().keys()];
  }

  /** True while the subscriber connection is up (its subscriptions are restored on ready). */
  isSubscribed(): boolean {
    return this.subscriber?.status === 'ready';
  }

  /**
   * Resolves once Redis has processed every PSUBSCRIBE sent so far: a PING on the same
   * connection is answered after them. Announcements made after this are heard.
   */
  async whenSubscribed(): Promise<void> {
    await this.subscriber?.ping();
  }

  get reconnectCount(): number {
    return this.reconnects;
  }

  /** Idempotent: the listeners close it before draining, and Nest closes it again after. */
  override close(): Promise<void> {
    this.closing ??= super.close();
    return this.closing;
  }

  // Typed as Nest's packet object, but any value goes through to the deserializer,
  // which wraps it as { pattern: channel, data: <the text> }.
  override parseMessage(content: unknown): Record<string, never> {
    return (Buffer.isBuffer(content)
      ? content.toString('utf8')
      : String(content)) as unknown as Record<string, never>;
  }

  // Patterns are plain strings here: look the handler up directly. Nest first tries to
  // JSON.parse every pattern (and throws and catches on each message), ~10% of the CPU.
  override getHandlerByPattern(
    pattern: string,
  ): ReturnType<ServerRedis['getHandlerByPattern']> {
    return this.messageHandlers.get(pattern) ?? null;
  }

  // Nest connects them itself (lazyConnect); close() quits them, which ends their retries.
  // Nest makes the subscriber first, then the connection for its replies: named so.
  override createRedisClient(): Promise<Redis> {
    const role = this.subClient ? 'pub' : 'sub';
    return Promise.resolve(
      createSubscriber(this.target, `podium-listeners-${role}`, {
        autoPipelining: false,
        lazyConnect: true,
      }),
    );
  }
}
