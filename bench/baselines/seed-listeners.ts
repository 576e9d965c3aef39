/**
 * Baseline (a): the seed's five listen loops on raw ioredis. Each listener has its own
 * subscriber connection and its own command connection, and handles one message at a time
 * in arrival order (the seed's `for message in l.listen()`); messages that arrive meanwhile
 * wait in the listener's queue in this process.
 */
import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '@podium/redis';
import { listenerNames } from '../lib/model.js';
import { childConfig, Sampler } from '../processes/sampler.js';
import { seedListeners, type SeedListener } from './seed-handlers.js';

class Fifo {
  private items: string[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: string): void {
    this.items.push(item);
  }
  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

async function main(): Promise<void> {
  const config = childConfig();
  const options = redisOptionsFromUrl(config.redisUrl);
  const sampler = new Sampler(listenerNames(config.variant));
  const connections: Redis[] = [];
  let reconnects = 0;
  /** Per listener: messages waiting, plus the one being handled. */
  const pending: (() => number)[] = [];

  const run = async (listener: SeedListener): Promise<void> => {
    const sub = new Redis({
      ...options,
      connectionName: `seed-${listener.name}-sub`,
    });
    const cmd = new Redis({
      ...options,
      connectionName: `seed-${listener.name}`,
    });
    connections.push(sub, cmd);
    sub.on('reconnecting', () => reconnects++);
    for (const c of [sub, cmd])
      c.on('error', (err: Error) =>
        console.error(`[${listener.name}] Redis: ${err.message}`),
      );
    const queue = new Fifo();
    let running = false;
    let handling = 0;
    pending.push(() => queue.length + handling);
    const drain = async (): Promise<void> => {
      running = true;
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        handling = 1;
        try {
          if (await listener.handle(cmd, id)) sampler.record(listener.name, id);
        } catch (err) {
          sampler.errors++;
          console.error(
            `[${listener.name}] order ${id}: ${(err as Error).message}`,
          );
        }
        handling = 0;
      }
      running = false;
    };
    const onMessage = (message: string): void => {
      queue.push(message);
      if (!running) void drain();
    };
    if (listener.channel) {
      sub.on('message', (_channel: string, message: string) =>
        onMessage(message),
      );
      await sub.subscribe(listener.channel);
    } else {
      sub.on(
        'pmessage',
        (_pattern: string, _channel: string, message: string) =>
          onMessage(message),
      );
      await sub.psubscribe(listener.pattern!);
    }
  };

  await Promise.all(seedListeners(config.variant).map(run));
  sampler.start({
    pending: () => pending.map((n) => n()),
    reconnects: () => reconnects,
    onStop: async () => {
      await Promise.all(
        connections.map((c) => c.quit().catch(() => c.disconnect())),
      );
    },
  });
}

main().catch((err: Error) => {
  console.error(
    `bench seed listeners: cannot start: ${err.stack ?? err.message}`,
  );
  process.exit(1);
});
