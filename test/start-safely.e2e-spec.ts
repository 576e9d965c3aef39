import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Starting is safe: every start script builds through scripts/build-once.ts. Real processes run
 * it at the same moment, into a directory of their own (--out), so that the dist/ the other
 * tests run is left alone.
 */
const script = fileURLToPath(
  new URL('../scripts/build-once.ts', import.meta.url),
);
const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRY_POINTS = [
  'apps/box-office/src/main.js',
  'apps/listeners/src/main.js',
];

interface Run {
  status: number | null;
  output: string;
}

function build(out: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--out', out, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output }));
  });
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
    encoding: 'utf8',
  }).stdout.trim();
  return Number(pid);
}

describe('build-once: several starts at the same moment', () => {
  let dir: string;
  let out: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'podium-build-once-'));
    out = join(dir, 'dist');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('three processes, a stale lock: one builds, the others wait, all exit 0; a fourth finds it up to date', async () => {
    // A lock left by a build that was killed: its process is gone, so it is taken over.
    const lock = join(dir, '.dist.build', 'lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(
      join(lock, 'owner.json'),
      JSON.stringify({
        pid: deadPid(),
        host: hostname(),
        token: 'killed',
        since: 0,
      }),
    );

    const runs = await Promise.all([build(out), build(out), build(out)]);

    const summary = runs.map((run) => run.output).join('\n---\n');
    expect(runs.map((run) => run.status)).toEqual([0, 0, 0]);
    const built = runs.filter((run) => /^build: built /m.test(run.output));
    expect(built).toHaveLength(1);
    // Whichever process found the dead owner took the lock over (not always the one that built).
    expect(summary).toMatch(/held the build lock and is gone: taking it over/);
    for (const run of runs.filter((r) => r !== built[0]))
      expect(run.output).toMatch(
        /^build: .* is up to date \(waited [\d.]+ s for the build lock; built by pid \d+\)$/m,
      );
    expect(summary).not.toMatch(/error/i);
    for (const entry of ENTRY_POINTS)
      expect(existsSync(join(out, entry))).toBe(true);
    expect(
      existsSync(
        join(out, 'apps/box-office/src/live-dashboard/public/index.html'),
      ),
    ).toBe(true);
    expect(
      existsSync(join(out, 'libs/core/src/delivery/effects/effects.lua')),
    ).toBe(true);
    // The lock is released, and no half-built or old folder is left.
    expect(readdirSync(join(dir, '.dist.build'))).toEqual([]);
    // The compiled apps import the packages by name, as a user's app does: Node finds them
    // through node_modules (npm workspaces) and each package's exports.
    const compiled = readFileSync(
      join(out, 'apps/listeners/src/run-listeners-process.js'),
      'utf8',
    );
    expect(compiled).toMatch(/from '@podium\/core'/);
    expect(compiled).not.toMatch(/from '(\.\.\/)+libs\//);
    expect(existsSync(join(out, 'libs/core/src/index.d.ts'))).toBe(true);

    const fourth = await build(out);
    expect(fourth.status).toBe(0);
    expect(fourth.output).toMatch(/^build: .* is up to date$/m);
    expect(fourth.output).not.toMatch(/built/);
  }, 120_000);

  it('--check type-checks another tsconfig once, without compiling again', async () => {
    const stamp = () =>
      JSON.parse(readFileSync(join(out, '.build-stamp.json'), 'utf8'));
    const before = stamp();

    const checked = await build(out, '--check', 'tsconfig.apps.json');
    expect(checked.status).toBe(0);
    expect(checked.output).toMatch(
      /is up to date; checked in .*tsconfig\.apps\.json --noEmit/,
    );
    expect(stamp()).toMatchObject({
      hash: before.hash,
      builtAt: before.builtAt,
      checked: ['tsconfig.apps.json'],
    });

    const again = await build(out, '--check', 'tsconfig.apps.json');
    expect(again.output).toMatch(/^build: .* is up to date$/m);
  }, 120_000);
});
