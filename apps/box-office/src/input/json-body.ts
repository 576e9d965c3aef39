import type { IncomingMessage } from 'node:http';

/** Largest JSON body the box office reads; a larger one gets 413. */
export const MAX_BODY_BYTES = 16 * 1024;
/** Deepest nesting of arrays and objects a JSON body may have; the body itself is level 1. */
export const MAX_JSON_DEPTH = 8;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPENERS = new Set([0x5b, 0x7b]); // [ {
const CLOSERS = new Set([0x5d, 0x7d]); // ] }

/**
 * Where a JSON text nests arrays and objects deeper than `maxDepth`: the top-level field
 * that does ("who"), "body" when the body itself is an array, or undefined when the depth
 * is within the limit. One pass over the text, counting brackets outside strings; it never
 * recurses, so no depth can overflow the stack (class-transformer's recursion does at a
 * few thousand levels: the reason for this check).
 */
export function tooDeeplyNested(
  text: string,
  maxDepth = MAX_JSON_DEPTH,
): string | undefined {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let stringStart = 0;
  let lastString = '';
  let field = 'body';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) {
        inString = false;
        if (depth === 1) lastString = text.slice(stringStart, i + 1);
      }
    } else if (c === QUOTE) {
      inString = true;
      stringStart = i;
    } else if (c === COLON && depth === 1) {
      field = decodeKey(lastString); // a key of the top-level object: the field whose value follows
    } else if (OPENERS.has(c)) {
      if (++depth > maxDepth) return field;
    } else if (CLOSERS.has(c)) {
      depth--;
    }
  }
  return undefined;
}

function decodeKey(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted;
  }
}

/** An error body-parser passes on with its status; BodyErrorFilter words the answer. */
class BodyRefused extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string,
  ) {
    super(message);
  }
}

/**
 * Options of the box office's JSON body parser: the size limit, UTF-8 only (RFC 8259), and
 * no nesting deeper than MAX_JSON_DEPTH, checked on the raw text before it is parsed.
 */
export function jsonBodyOptions() {
  return {
    limit: MAX_BODY_BYTES,
    verify: (
      _req: IncomingMessage,
      _res: unknown,
      body: Buffer,
      encoding: string,
    ) => {
      if (encoding.toLowerCase() !== 'utf-8')
        throw new BodyRefused(
          'body must be JSON in UTF-8',
          415,
          'charset.unsupported',
        );
      const field = tooDeeplyNested(body.toString('utf8'));
      if (field !== undefined) {
        throw new BodyRefused(
          `${field} is nested too deeply: JSON bodies may nest arrays and objects ${MAX_JSON_DEPTH} levels deep`,
          400,
          'entity.too.deep',
        );
      }
    },
  };
}
