/*
 * Redis Cluster's key slots, computed as Redis computes them: CRC16 (XMODEM) of the key's
 * hash tag, or of the whole key, modulo 16384. A script or a MULTI may only touch keys of
 * one slot, so podium places keys that must change together in one slot, by tag.
 */

export const CLUSTER_SLOTS = 16_384;

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++)
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

/** CRC16-XMODEM of bytes, continuing from `crc`. */
function crc16Bytes(bytes: Uint8Array, crc = 0): number {
  for (const byte of bytes)
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/** CRC16-XMODEM of a text's UTF-8 bytes, as Redis hashes keys. */
export function crc16(text: string): number {
  return crc16Bytes(Buffer.from(text, 'utf8'));
}

/**
 * The part of a key Redis hashes: what stands between its first '{' and the first '}'
 * after it, when that is not empty; else the whole key.
 */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** The cluster slot of a key. */
export function keySlot(key: string): number {
  return crc16(hashedPart(key)) % CLUSTER_SLOTS;
}

let tags: string[] | undefined;

/**
 * A short tag (letters and digits) whose slot is `slot`: `{<tag>}` in a key puts it there.
 * The table is built on first use, by trying tags in order (about 200,000 CRCs).
 */
export function slotTag(slot: number): string {
  if (!tags) {
    const found: string[] = new Array<string>(CLUSTER_SLOTS);
    let missing = CLUSTER_SLOTS;
    for (let n = 0; missing > 0; n++) {
      const tag = n.toString(36);
      const s = crc16(tag) % CLUSTER_SLOTS;
      if (found[s] === undefined) {
        found[s] = tag;
        missing--;
      }
    }
    tags = found;
  }
  return tags[slot];
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Characters at the end of an id that are chosen so that the id's key lands in a slot. */
export const STEERING = 4;
let steering: string[] | undefined;

/** CRC state after feeding `n` zero bytes from `crc` (CRC16-XMODEM is linear, so this is how a prefix carries over). */
function shifted(crc: number, n: number): number {
  for (let i = 0; i < n; i++) crc = crc16Bytes(Uint8Array.of(0), crc);
  return crc;
}

/**
 * An order id made of `prefix` (letters and digits, chosen at random by the caller) and
 * STEERING more characters chosen so that `keyPrefix + id` lands in `slot`: CRC16 is
 * linear, crc(a + b) = shift(crc(a), |b|) XOR crc(b), so the last characters can steer
 * the whole key's CRC to any value. The table of steering suffixes (one per 14-bit value,
 * from 36^4 candidates) is built on first use.
 */
export function steeredId(
  keyPrefix: string,
  prefix: string,
  slot: number,
): string {
  if (!steering) {
    const found: string[] = new Array<string>(CLUSTER_SLOTS);
    let missing = CLUSTER_SLOTS;
    const bytes = new Uint8Array(STEERING);
    const codes = [...ID_ALPHABET].map((c) => c.charCodeAt(0));
    for (let n = 0; missing > 0; n++) {
      let rest = n;
      for (let i = STEERING - 1; i >= 0; i--) {
        bytes[i] = codes[rest % codes.length];
        rest = Math.floor(rest / codes.length);
      }
      const value = crc16Bytes(bytes) % CLUSTER_SLOTS;
      if (found[value] === undefined) {
        found[value] = String.fromCharCode(...bytes);
        missing--;
      }
    }
    steering = found;
  }
  const carried = shifted(crc16(keyPrefix + prefix), STEERING) % CLUSTER_SLOTS;
  return prefix + steering[(carried ^ slot) % CLUSTER_SLOTS];
}
