import { randomInt } from 'node:crypto';
import { globMatches } from './glob.js';

/** A message as Redis stores it: one hash, field -> text. */
export type MessageHash = Record<string, string>;

/** The names of T's string fields: what may hold a message's id. */
export type IdField<T> = {
  [K in keyof T]-?: T[K] extends string ? K : never;
}[keyof T] &
  string;

/**
 * What podium must know of one kind of message to record, announce, place, load and
 * validate it. Declare it once with defineMessageType and share the constant between the
 * code that publishes and the listeners.
 */
export interface MessageTypeDefinition<T, K extends IdField<T> = IdField<T>> {
  /** Names the type in errors and logs: `signup`, `order`. */
  name: string;
  /** The field of T that holds the message's id; podium fills it in when it is empty. */
  idField: K;
  /** A record's key is this prefix and the id: `signup:` stores message 42 at `signup:42`. */
  recordKeyPrefix: string;
  /** The message as the fields of its record hash. */
  toHash(message: T): MessageHash;
  /**
   * Reads a record back, and validates it once for every listener: throw an Error naming
   * the bad field, and every listener rejects that message (counted, logged), none
   * half-applies it. The publisher reads a message through it before recording it too, so
   * a malformed one is refused before anything is written.
   */
  fromHash(id: string, hash: MessageHash): T;
  /**
   * The channels a message is announced on, in this order; the payload is its bare id.
   * Listeners subscribe to them by channel or glob pattern.
   */
  channels(message: T): readonly string[];
  /**
   * On a Redis Cluster, a key the record must share a slot with (the one its admission
   * reads): podium makes new ids so that the record lands there. By default a record's
   * slot is its own key's. Nothing changes on one Redis.
   */
  placedBy?(message: T): string;
  /** Checks and writes that decide, in the record's own script, whether it is recorded. */
  admission?: Admission<T>;
}

/**
 * A Lua file that runs inside the record script, before the record is stored: it defines
 * `local function admit(record, keys, args)`, where `record` is the message's fields (the
 * function may change them: what it leaves is what is stored), `keys` and `args` what
 * keys() and args() give. It returns nil to record the message (after its own writes), or a
 * table that refuses it: the publisher then answers `{ outcome: 'refused', reply }`.
 */
export interface Admission<T> {
  lua: URL | string;
  /** Keys the admission reads or writes (on a cluster, in the slot of placedBy). */
  keys(message: T): string[];
  args?(message: T): (string | number)[];
}

/** A record that exists but is not a valid message of its type. It is never retried by itself. */
export class MalformedMessageError extends Error {}

/** An announced id whose record does not exist. */
export class UnknownMessageError extends Error {}

/** A message type, as defineMessageType returns it: its definition and what podium derives from it. */
export class MessageType<T = unknown, K extends IdField<T> = IdField<T>> {
  constructor(readonly definition: MessageTypeDefinition<T, K>) {}

  get name(): string {
    return this.definition.name;
  }

  /** The key of a message's record. */
  recordKey(id: string): string {
    return `${this.definition.recordKeyPrefix}${id}`;
  }

  idOf(message: T): string {
    return message[this.definition.idField] as string;
  }

  withId(message: Unpublished<T, K>, id: string): T {
    return { ...message, [this.definition.idField]: id } as T;
  }

  channels(message: T): readonly string[] {
    return this.definition.channels(message);
  }

  /** Whether a subscription (a PSUBSCRIBE glob) hears this message: it matches one of its channels. */
  hears(pattern: string, message: T): boolean {
    return this.channels(message).some((channel) =>
      globMatches(pattern, channel),
    );
  }

  toHash(message: T): MessageHash {
    return this.definition.toHash(message);
  }

  /** The message of a record hash; MalformedMessageError naming the type and id when it is not one. */
  fromHash(id: string, hash: MessageHash): T {
    try {
      return this.definition.fromHash(id, hash);
    } catch (err) {
      if (err instanceof MalformedMessageError) throw err;
      throw new MalformedMessageError(
        `${this.name} ${id}: ${(err as Error).message}`,
      );
    }
  }
}

/** A message to publish: its id may be left out, and podium makes one. */
export type Unpublished<T, K extends IdField<T> = IdField<T>> = Omit<T, K> &
  Partial<Pick<T, K>>;

/**
 * Declares a message type:
 *
 *     export const SIGNUP = defineMessageType<Signup>()({ name: 'signup', idField: 'id', ... });
 *
 * (called twice so that the id field is checked against T while T is given).
 */
export function defineMessageType<T>() {
  return <K extends IdField<T>>(
    definition: MessageTypeDefinition<T, K>,
  ): MessageType<T, K> => {
    if (!/^[a-z][a-z0-9-]*$/.test(definition.name))
      throw new Error(
        `message type name "${definition.name}" must be kebab-case (a-z, 0-9, -)`,
      );
    if (!definition.recordKeyPrefix)
      throw new Error(
        `message type "${definition.name}": recordKeyPrefix must not be empty`,
      );
    return new MessageType(definition);
  };
}

// Upper-case letters and digits. The first character is a letter so an id is never all
// digits (BullMQ rejects those as job ids) and holds no ':'.
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALPHANUMERIC = `${LETTERS}0123456789`;

/** A new random id: 12 characters, a letter then letters and digits ("K3Q9ZT0B1MXA"). */
export function newMessageId(length = 12): string {
  let id = LETTERS[randomInt(LETTERS.length)];
  while (id.length < length) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}

/** Ids that podium accepts on the wire: printable, no whitespace, bounded. */
export function isPlausibleMessageId(value: string): boolean {
  return (
    value.length > 0 && value.length <= 128 && /^[\x21-\x7e]+$/.test(value)
  );
}

/** A message type of any message: what the engine's plumbing handles without looking inside. */
export type AnyMessageType = MessageType<any, any>;
