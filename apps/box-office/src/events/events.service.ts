import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { escapeGlob } from '@podium/core';
import { eventKey, parsePriceToCents } from '@podium/orders';
import { LuaScript, REDIS, scanKeys, type RedisClient } from '@podium/redis';
import type { CreateEventDto } from './dto/create-event.dto.js';
import { eventFromHash, type TicketedEvent } from './event.js';

const EVENT_KEY_PREFIX = eventKey('');

// Creates the event hash only if it does not exist yet, in one step.
const CREATE_EVENT = LuaScript.fromFile(
  new URL('./create-event.lua', import.meta.url),
);

@Injectable()
export class EventsService {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  async create(dto: CreateEventDto): Promise<TicketedEvent> {
    parsePriceToCents(dto.price); // validated by the DTO already; this pins the rule in one place
    const fields: Record<string, string> = {
      name: dto.name,
      price: String(dto.price),
      sold: '0',
    };
    if (dto.capacity !== undefined) fields.capacity = String(dto.capacity);
    const created = await CREATE_EVENT.run<number>(
      this.redis,
      [eventKey(dto.name)],
      Object.entries(fields).flat(),
    );
    if (!created)
      throw new ConflictException(`event "${dto.name}" already exists`);
    return eventFromHash(dto.name, fields);
  }

  async find(name: string): Promise<TicketedEvent | null> {
    const hash = await this.redis.hgetall(eventKey(name));
    return hash.price === undefined ? null : eventFromHash(name, hash);
  }

  /** All events, found by scanning events:* (other programs may create events too). */
  async list(): Promise<TicketedEvent[]> {
    const names: string[] = [];
    const match = `${escapeGlob(EVENT_KEY_PREFIX)}*`;
    for await (const keys of scanKeys(this.redis, match))
      names.push(...keys.map((k) => k.slice(EVENT_KEY_PREFIX.length)));
    // Sent together (auto-pipelining), to each event's server.
    const hashes = await Promise.all(
      names.map((name) => this.redis.hgetall(eventKey(name))),
    );
    return names
      .map((name, i) =>
        hashes[i]?.price !== undefined ? eventFromHash(name, hashes[i]) : null,
      )
      .filter((e): e is TicketedEvent => e !== null)
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
