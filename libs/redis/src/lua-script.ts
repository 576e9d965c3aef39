import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from './redis-connection.js';

type Arg = string | number;

/**
 * A Lua script run by EVALSHA. It is loaded once (SCRIPT LOAD) before its first run, and
 * again with EVAL if Redis answers NOSCRIPT (a restarted server). Once loaded, run() sends
 * its command synchronously, so calls reach Redis in the order they were made.
 * (ioredis' defineCommand cannot be used here: a command defined after an auto-pipeline was
 * opened is missing from that pipeline.)
 */
export class LuaScript {
  readonly sha: string;
  private readonly loading = new WeakMap<RedisClient, Promise<unknown>>();
  private readonly loaded = new WeakSet<RedisClient>();

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /**
   * The script of a .lua file, its includes resolved (see resolveLua). Read once, when
   * called: at module load, `LuaScript.fromFile(new URL('./record.lua', import.meta.url))`,
   * which finds the file beside the module both in the sources (jest) and in dist/ (the
   * build copies every .lua file there).
   */
  static fromFile(file: URL | string): LuaScript {
    return new LuaScript(resolveLua(file).text);
  }

  /**
   * One script of several .lua files, in the order given, each file's includes resolved
   * and every file included once across all of them: a part chosen at run time (a message
   * type's admission) ahead of the script that calls it.
   */
  static fromFiles(files: readonly (URL | string)[]): LuaScript {
    return new LuaScript(resolveLua(files).text);
  }

  async run<T = unknown>(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly Arg[],
  ): Promise<T> {
    if (!this.loaded.has(redis)) await this.load(redis);
    try {
      return (await redis.evalsha(
        this.sha,
        keys.length,
        ...keys,
        ...args,
      )) as T;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT'))
        throw err;
      return (await redis.eval(this.lua, keys.length, ...keys, ...args)) as T;
    }
  }

  private async load(redis: RedisClient): Promise<void> {
    let loading = this.loading.get(redis);
    if (!loading) {
      loading = redis.script('LOAD', this.lua);
      this.loading.set(redis, loading);
    }
    try {
      await loading;
      this.loaded.add(redis);
    } catch (err) {
      this.loading.delete(redis);
      throw err;
    }
  }
}

/**
 * The include line: `--@include "../../queues/includes/now-ms.lua"`, alone on its
 * line, the path relative to the including file. Being a Lua comment, a file still reads
 * and parses as Lua before its includes are resolved.
 */
const INCLUDE = /^--@include\s+"([^"]+)"$/;

/** A .lua file with its includes resolved, and where each of its lines comes from. */
export interface LuaSource {
  /** The script as Redis gets it. */
  text: string;
  /** Per line of text (index 0: line 1), its file and its line there (1-based). */
  lines: readonly { file: string; line: number }[];
}

/**
 * Reads a .lua file and replaces each include line by the included file, itself resolved
 * the same way. A file is included once per script, where it is first named: includes
 * define local functions, and two that need the same one get it once. An include cycle is
 * an error naming its files, as is an include that cannot be read (naming its line).
 */
export function resolveLua(
  file: URL | string | readonly (URL | string)[],
): LuaSource {
  const text: string[] = [];
  const lines: { file: string; line: number }[] = [];
  const included = new Set<string>();
  const visit = (path: string, chain: readonly string[], from?: string) => {
    if (chain.includes(path))
      throw new Error(
        `Lua include cycle: ${[...chain.slice(chain.indexOf(path)), path].map(shown).join(' -> ')}`,
      );
    if (included.has(path)) return;
    included.add(path);
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(
        `${from ?? 'Lua file'}: cannot read ${shown(path)} (${(err as Error).message})`,
        { cause: err },
      );
    }
    source
      .replace(/\r?\n$/, '')
      .split(/\r?\n/)
      .forEach((content, i) => {
        const include = INCLUDE.exec(content.trim());
        if (include)
          visit(
            resolve(dirname(path), include[1]),
            [...chain, path],
            `${shown(path)}:${i + 1}`,
          );
        else {
          text.push(content);
          lines.push({ file: path, line: i + 1 });
        }
      });
  };
  const files: readonly (URL | string)[] =
    typeof file === 'string' || file instanceof URL ? [file] : file;
  for (const one of files)
    visit(typeof one === 'string' ? resolve(one) : fileURLToPath(one), []);
  return { text: `${text.join('\n')}\n`, lines };
}

/** A path as an error shows it: relative to the working directory when inside it. */
function shown(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}
