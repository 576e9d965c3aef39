/**
 * `npm run build`, `npm run build:apps` and every start script (`start:*`, `demo`, `bench`,
 * `subscriptions`) build dist/ through this script: once, and safely when several processes
 * start at the same moment.
 *
 * - Up to date: dist/.build-stamp.json holds a hash of every input (the .ts and .lua files of
 *   apps/, libs/, examples/ but examples/own-app, scripts/ and bench/, the dashboard's public
 *   files, tsconfig*.json, package.json, package-lock.json, the packages' package.json). When
 *   it matches and dist/ has both apps' entry points and @podium/core's, nothing is compiled
 *   and the script exits at once.
 * - Otherwise one process builds and the others wait: an exclusive lock, a directory made with
 *   mkdir that names its owner's pid (a lock whose process is gone is taken over). The owner
 *   checks the stamp again (another process may have built meanwhile), compiles into a fresh
 *   folder (tsc with that outDir, then the assets), writes the stamp there and
 *   swaps it in with two renames: dist/ to a trash name, the new folder to dist/. No file of
 *   dist/ is ever rewritten in place: a process reading dist/ reads one whole build, and one
 *   already running keeps what it loaded. Only between the two renames (a few microseconds,
 *   and only when an input changed) is there no dist/: a start waits for the lock, and only a
 *   bare `node dist/...` started at that instant can miss it.
 * - `--check <tsconfig>` also type-checks that project, without output and beside the
 *   compilation: `npm run build:apps` (the test suite's build) checks tsconfig.apps.json, the
 *   README's examples and their spec. The stamp records it, so it too runs once per change.
 *
 * - The packages (libs/<name>, npm workspaces) are compiled in the same program, into
 *   dist/libs/<name>/src, and each package's dist/ is a link to that folder: the swap of dist/
 *   replaces them with the apps in one step.
 *
 * It runs as it is on the project's Node 24 (type stripping), before anything is compiled.
 *
 *   node scripts/build-once.ts [--out <dir>] [--check <tsconfig>]... [--force]
 *
 * `--out` builds elsewhere than dist/ (the test of this script does); `--force` builds even when
 * up to date. Messages go to stderr, each starting with "build:"; tsc's errors to stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');
/** The project compiled into dist/, as `npm run build` always did. */
const EMIT_CONFIG = 'tsconfig.build.json';
const SOURCE_DIRS = ['apps', 'libs', 'examples', 'scripts', 'bench'];
const PUBLIC_DIR = 'apps/box-office/src/live-dashboard/public';
/** dist/ counts as built only with these (besides a matching stamp). */
const ENTRY_POINTS = [
  'apps/box-office/src/main.js',
  'apps/listeners/src/main.js',
  'libs/core/src/index.js',
];
const STAMP = '.build-stamp.json';
/** How long a process waits for another one's build before giving up. */
const WAIT_MS = 5 * 60_000;
/** A lock directory still without its owner file after this long: its process died at once. */
const ORPHAN_MS = 10_000;

interface Stamp {
  hash: string;
  checked: string[];
  builtAt: string;
  pid: number;
}
interface Owner {
  pid: number;
  host: string;
  token: string;
  since: number;
}
interface Held {
  dir: string;
  owner: Owner;
  /** The first owner this process found holding the lock, if it had to wait. */
  waitedFor?: Owner;
  waitedMs: number;
}
interface TscRun {
  label: string;
  ok: boolean;
  output: string;
  ms: number;
}

const say = (line: string) => process.stderr.write(`build: ${line}\n`);
const code = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const unique = () => `${process.pid}-${randomBytes(4).toString('hex')}`;
const toPosix = (p: string) => p.split(path.sep).join('/');

/** Every file the build reads, relative to the project root, sorted. */
function inputFiles(): string[] {
  const files = fs
    .readdirSync(root)
    .filter(
      (name) =>
        /^tsconfig.*\.json$/.test(name) ||
        name === 'package.json' ||
        name === 'package-lock.json',
    );
  for (const dir of SOURCE_DIRS) {
    if (!fs.existsSync(path.join(root, dir))) continue; // the Docker build has no bench/
    for (const rel of walk(dir)) if (isInput(rel)) files.push(rel);
  }
  return files.sort();
}

/**
 * The files under a folder, relative to the project root. Not followed: the packages' dist/
 * links (into the build), node_modules, and examples/own-app (a project of its own, tested
 * on the packed packages).
 */
function walk(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), {
    withFileTypes: true,
  })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isFile()) files.push(rel);
    else if (
      entry.isDirectory() &&
      entry.name !== 'node_modules' &&
      rel !== 'examples/own-app'
    )
      files.push(...walk(rel));
  }
  return files;
}

function isInput(rel: string): boolean {
  if (/^libs\/[^/]+\/package\.json$/.test(rel)) return true;
  if (rel.startsWith(`${PUBLIC_DIR}/`) || rel.endsWith('.lua')) return true;
  if (!rel.endsWith('.ts')) return false;
  // The specs of apps/ and libs/ are compiled by no tsconfig: jest runs them from the sources.
  return !(/^(apps|libs)\//.test(rel) && /\.(e2e-)?spec\.ts$/.test(rel));
}

function inputsHash(): { hash: string; count: number } {
  const sha = createHash('sha256');
  const files = inputFiles();
  for (const rel of files) {
    const content = fs.readFileSync(path.join(root, rel));
    sha.update(`${rel}\0${content.length}\0`).update(content);
  }
  return { hash: sha.digest('hex').slice(0, 32), count: files.length };
}

function readStamp(out: string): Stamp | undefined {
  try {
    const stamp = JSON.parse(
      fs.readFileSync(path.join(out, STAMP), 'utf8'),
    ) as Partial<Stamp>;
    return typeof stamp.hash === 'string' && Array.isArray(stamp.checked)
      ? (stamp as Stamp)
      : undefined;
  } catch {
    return undefined;
  }
}

const hasEntryPoints = (out: string) =>
  ENTRY_POINTS.every((file) => fs.existsSync(path.join(out, file)));

const isCurrent = (
  out: string,
  stamp: Stamp | undefined,
  hash: string,
  checks: string[],
) =>
  stamp?.hash === hash &&
  checks.every((config) => stamp.checked.includes(config)) &&
  hasEntryPoints(out);

/**
 * Where the lock, the new build and the old one live: beside node_modules' other caches, on
 * the same file system as dist/ (a rename cannot cross one), and out of ESLint's and git's way;
 * for another --out without a node_modules beside it, a folder beside that directory.
 */
function workDirFor(out: string): string {
  const parent = path.dirname(out);
  const modules = path.join(parent, 'node_modules');
  try {
    if (fs.statSync(modules).dev === fs.statSync(parent).dev)
      return path.join(
        modules,
        '.cache',
        'podium-build',
        `${path.basename(out)}-${createHash('sha256').update(out).digest('hex').slice(0, 8)}`,
      );
  } catch {
    // no node_modules there
  }
  return path.join(parent, `.${path.basename(out)}.build`);
}

// ---- the lock ------------------------------------------------------------------------------

function readOwner(lockDir: string): Owner | undefined {
  try {
    const owner = JSON.parse(
      fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8'),
    ) as Partial<Owner>;
    return typeof owner.pid === 'number' && typeof owner.token === 'string'
      ? (owner as Owner)
      : undefined;
  } catch {
    return undefined; // gone, or being written
  }
}

function ageMs(dir: string): number {
  try {
    return Date.now() - fs.statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return code(e) === 'EPERM';
  }
}

/** A lock whose owner is gone: its process died (on this machine), or it never wrote its name. */
function isStale(lockDir: string, owner: Owner | undefined): boolean {
  if (!owner) return ageMs(lockDir) > ORPHAN_MS;
  return owner.host === os.hostname() && !isAlive(owner.pid);
}

/**
 * Removes a stale lock; true when it did. Those who found it stale take turns (a second
 * directory made with mkdir), and each looks again before removing it: the lock may have
 * changed hands meanwhile.
 */
function breakLock(
  work: string,
  lockDir: string,
  seen: Owner | undefined,
): boolean {
  const guard = path.join(work, 'lock.break');
  try {
    fs.mkdirSync(guard);
  } catch (e) {
    if (code(e) !== 'EEXIST') throw e;
    if (ageMs(guard) > ORPHAN_MS)
      fs.rmSync(guard, { recursive: true, force: true });
    return false;
  }
  try {
    const now = readOwner(lockDir);
    if (now?.token !== seen?.token || !isStale(lockDir, now)) return false;
    const grave = path.join(work, `broken-${unique()}`);
    fs.renameSync(lockDir, grave);
    fs.rmSync(grave, { recursive: true, force: true });
    say(
      seen
        ? `pid ${seen.pid} held the build lock and is gone: taking it over`
        : 'taking over a build lock its process never finished taking',
    );
    return true;
  } catch (e) {
    if (code(e) !== 'ENOENT') throw e;
    return false;
  } finally {
    fs.rmSync(guard, { recursive: true, force: true });
  }
}

async function acquire(work: string, shown: string): Promise<Held> {
  const dir = path.join(work, 'lock');
  const owner: Owner = {
    pid: process.pid,
    host: os.hostname(),
    token: randomBytes(8).toString('hex'),
    since: Date.now(),
  };
  const start = Date.now();
  let waitedFor: Owner | undefined;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(owner));
      return { dir, owner, waitedFor, waitedMs: Date.now() - start };
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
    }
    const holder = readOwner(dir);
    if (isStale(dir, holder)) {
      if (breakLock(work, dir, holder)) continue;
    } else if (holder && !waitedFor) {
      waitedFor = holder;
      say(
        `waiting for pid ${holder.pid}, which is building ${shown} (lock ${dir})`,
      );
    }
    if (Date.now() - start > WAIT_MS)
      throw new Error(
        `gave up after ${seconds(WAIT_MS)}: ${holder ? `pid ${holder.pid} (${holder.host})` : 'another process'} still holds the build lock ${dir}. ` +
          `If no build is running, remove that directory and start again.`,
      );
    await sleep(100);
  }
}

function release(held: Held) {
  if (readOwner(held.dir)?.token !== held.owner.token) return;
  const grave = path.join(path.dirname(held.dir), `released-${unique()}`);
  fs.renameSync(held.dir, grave);
  fs.rmSync(grave, { recursive: true, force: true });
}

/** What a build killed half-way left behind (only the lock's owner makes these). */
function removeLeftovers(work: string) {
  for (const name of fs.readdirSync(work)) {
    if (/^(stage|old|broken|released)-/.test(name))
      fs.rmSync(path.join(work, name), { recursive: true, force: true });
  }
}

// ---- the build -----------------------------------------------------------------------------

const running = new Set<ChildProcess>();

function tsc(args: string[], label: string): Promise<TscRun> {
  const bin = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const pretty = process.stdout.isTTY ? ['--pretty'] : [];
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args, ...pretty], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (status) => {
      running.delete(child);
      resolve({
        label,
        ok: status === 0,
        output,
        ms: performance.now() - start,
      });
    });
  });
}

/** tsc and the assets into `stage`, as if it were `out`. */
async function compile(stage: string, out: string): Promise<TscRun> {
  const start = performance.now();
  const run = await tsc(
    ['-p', EMIT_CONFIG, '--outDir', stage],
    `tsc -p ${EMIT_CONFIG}`,
  );
  if (!run.ok) return run;
  for (const rel of inputFiles()) {
    if (!rel.endsWith('.lua') && !rel.startsWith(`${PUBLIC_DIR}/`)) continue;
    fs.mkdirSync(path.dirname(path.join(stage, rel)), { recursive: true });
    fs.copyFileSync(path.join(root, rel), path.join(stage, rel));
  }
  relocateSourceMaps(stage, out);
  return {
    ...run,
    label: `${run.label}, assets`,
    ms: performance.now() - start,
  };
}

/**
 * Each package's dist/ (where its exports send Node: libs/<name>/dist/index.js) is a link to
 * its part of the build, dist/libs/<name>/src, so that swapping dist/ in swaps every package
 * with the apps at once. Made on the first start of a checkout: processes started at the same
 * moment may all try, and whoever links first wins (the others find its link). A link that is
 * already right is left alone.
 */
function linkPackageDists() {
  for (const name of fs.readdirSync(path.join(root, 'libs'))) {
    if (!fs.existsSync(path.join(root, 'libs', name, 'package.json'))) continue;
    const link = path.join(root, 'libs', name, 'dist');
    const target = path.join('..', '..', 'dist', 'libs', name, 'src');
    if (linkOf(link) === target) continue;
    // Something else is there (a folder, a link elsewhere): it goes.
    if (fs.lstatSync(link, { throwIfNoEntry: false }))
      fs.rmSync(link, { recursive: true, force: true });
    try {
      fs.symlinkSync(target, link, 'dir');
    } catch (e) {
      if (code(e) !== 'EEXIST' || linkOf(link) !== target) throw e;
    }
  }
}

/** Where a link points, or undefined when it is no link. */
function linkOf(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

/**
 * tsc writes each source map's `sources` relative to where the map is; the build moves from
 * `stage` to `out`, so when they are not side by side the paths are written again as tsc would
 * have written them in `out`.
 */
function relocateSourceMaps(stage: string, out: string) {
  if (path.dirname(stage) === path.dirname(out)) return;
  for (const rel of fs.readdirSync(stage, {
    recursive: true,
    encoding: 'utf8',
  })) {
    if (!rel.endsWith('.map')) continue;
    const file = path.join(stage, rel);
    const map = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      sources?: string[];
    };
    if (!Array.isArray(map.sources)) continue;
    const from = path.dirname(file);
    const to = path.dirname(path.join(out, rel));
    map.sources = map.sources.map((source) =>
      toPosix(path.relative(to, path.resolve(from, source))),
    );
    fs.writeFileSync(file, JSON.stringify(map));
  }
}

/** dist/ → trash, stage → dist/, trash removed. */
function swapIn(stage: string, out: string, work: string) {
  const old = path.join(work, `old-${unique()}`);
  let moved = false;
  try {
    fs.renameSync(out, old);
    moved = true;
  } catch (e) {
    if (code(e) === 'EXDEV') fs.rmSync(out, { recursive: true, force: true });
    else if (code(e) !== 'ENOENT') throw e;
  }
  try {
    fs.renameSync(stage, out);
  } catch (e) {
    if (moved) fs.renameSync(old, out);
    throw e;
  }
  if (moved) fs.rmSync(old, { recursive: true, force: true });
}

function writeStamp(dir: string, stamp: Stamp) {
  const tmp = path.join(dir, `${STAMP}.${unique()}`);
  fs.writeFileSync(tmp, `${JSON.stringify(stamp, null, 2)}\n`);
  fs.renameSync(tmp, path.join(dir, STAMP));
}

// ---- main ----------------------------------------------------------------------------------

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      check: { type: 'string', multiple: true, default: [] },
      force: { type: 'boolean', default: false },
    },
  });
  const out = path.resolve(values.out ?? path.join(root, 'dist'));
  const checks = values.check.map((config) => toPosix(config));
  for (const config of checks)
    if (!fs.existsSync(path.join(root, config)))
      throw new Error(`--check ${config}: no such file in ${root}`);
  const relative = path.relative(process.cwd(), out);
  const shown = `${relative && !relative.startsWith('..') ? relative : out}/`;

  const started = performance.now();
  linkPackageDists();
  if (
    !values.force &&
    isCurrent(out, readStamp(out), inputsHash().hash, checks)
  ) {
    say(`${shown} is up to date`);
    return 0;
  }

  const work = workDirFor(out);
  fs.mkdirSync(work, { recursive: true });
  const held = await acquire(work, shown);
  let stage: string | undefined;
  const stop = (signal: NodeJS.Signals) => {
    for (const child of running) child.kill('SIGTERM');
    if (stage) fs.rmSync(stage, { recursive: true, force: true });
    release(held);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    // Looked at again with the lock held: whoever held it before may have built just that.
    const { hash, count } = inputsHash();
    const stamp = readStamp(out);
    const waited = held.waitedFor
      ? ` (waited ${seconds(held.waitedMs)} for the build lock)`
      : '';
    if (!values.force && isCurrent(out, stamp, hash, checks)) {
      say(
        `${shown} is up to date${held.waitedFor ? ` (waited ${seconds(held.waitedMs)} for the build lock; built by pid ${stamp?.pid})` : ''}`,
      );
      return 0;
    }
    removeLeftovers(work);
    const emit = values.force || stamp?.hash !== hash || !hasEntryPoints(out);
    const pending = checks.filter(
      (config) => emit || !stamp?.checked.includes(config),
    );
    if (emit) stage = path.join(work, `stage-${unique()}`);
    const runs = await Promise.all([
      ...(stage ? [compile(stage, out)] : []),
      ...pending.map((config) =>
        tsc(['-p', config, '--noEmit'], `tsc -p ${config} --noEmit`),
      ),
    ]);
    for (const run of runs) if (run.output) process.stdout.write(run.output);
    const failed = runs.filter((run) => !run.ok);
    const passed = pending.filter((config) =>
      runs.some((run) => run.ok && run.label === `tsc -p ${config} --noEmit`),
    );
    const timings = runs
      .map((run) => `${run.label} ${seconds(run.ms)}`)
      .join(', ');
    if (stage && runs[0].ok) {
      writeStamp(stage, {
        hash,
        checked: passed,
        builtAt: new Date().toISOString(),
        pid: process.pid,
      });
      swapIn(stage, out, work);
      stage = undefined;
      say(
        `built ${shown} in ${seconds(performance.now() - started)} from ${count} files${waited} (${timings})`,
      );
    } else if (!stage && stamp) {
      // dist/ is current: only checks ran, and the stamp notes those that passed.
      if (passed.length)
        writeStamp(out, { ...stamp, checked: [...stamp.checked, ...passed] });
      if (!failed.length)
        say(
          `${shown} is up to date; checked in ${seconds(performance.now() - started)} (${timings})`,
        );
    }
    for (const run of failed)
      say(
        `${run.label} found errors${run === runs[0] && emit ? `: ${shown} left as it was` : ''}`,
      );
    return failed.length ? 1 : 0;
  } finally {
    if (stage) fs.rmSync(stage, { recursive: true, force: true });
    release(held);
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

main().then(
  (status) => (process.exitCode = status),
  (e: unknown) => {
    say(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  },
);
