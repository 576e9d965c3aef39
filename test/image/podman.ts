import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from '@podium/testing';

/** The repository's root: build contexts, docker-compose.yml. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** podman with the project's settings (scripts/image/podman.sh: runc, cgroupfs, limits). */
export const podmanPath = fileURLToPath(
  new URL('../../scripts/image/podman.sh', import.meta.url),
);

/** The image under test, as scripts/image/build.sh tags it. */
export const IMAGE = process.env.IMAGE ?? 'podium:latest';

const execFileAsync = promisify(execFile);

/** Runs a command and returns its stdout; a failure's error carries its stderr. */
export async function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, {
      cwd: repoRoot,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed: ${(err as Error).message}\n${stdout ?? ''}${stderr ?? ''}`,
      { cause: err },
    );
  }
}

export const podman = (args: string[], timeoutMs?: number) =>
  run(podmanPath, args, { timeoutMs });

/** Stops the test with a clear line when the image was not built. */
export async function requireImage(image: string): Promise<void> {
  try {
    await podman(['image', 'exists', image]);
  } catch {
    throw new Error(
      `image ${image} not found: build it first (as root: scripts/image/build.sh)`,
    );
  }
}

/** A container's output, both streams, for a failure's message. */
export async function logsOf(container: string, tail = 40): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(
      podmanPath,
      ['logs', '--tail', String(tail), container],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    return `${stdout}${stderr}`;
  } catch (err) {
    return `(no logs: ${(err as Error).message})`;
  }
}

/** The first of `containers` that is not running (exited, or never created), if any. */
async function stoppedContainer(
  containers: string[],
): Promise<string | undefined> {
  for (const container of containers) {
    const state = await podman([
      'inspect',
      '--format',
      '{{.State.Status}}',
      container,
    ]).catch(() => 'missing');
    if (state.trim() !== 'running') return `${container} (${state.trim()})`;
  }
  return undefined;
}

/**
 * Waits for `check` while `containers` run: stops at once when one of them is not running,
 * and on that or a timeout, the error carries their last lines.
 */
export async function waitForContainers<T>(
  containers: string[],
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 60_000,
): Promise<NonNullable<T>> {
  const withLogs = async (message: string, cause?: unknown) => {
    const logs = await Promise.all(
      containers.map(async (c) => `--- ${c}:\n${await logsOf(c)}`),
    );
    return new Error(`${message}\n${logs.join('\n')}`, { cause });
  };
  let outcome: { value: NonNullable<T> } | { stopped: string };
  try {
    outcome = await waitFor(
      async () => {
        const value = await check();
        if (value) return { value };
        const stopped = await stoppedContainer(containers);
        return stopped ? { stopped } : undefined;
      },
      { what, timeoutMs, intervalMs: 250 },
    );
  } catch (err) {
    throw await withLogs((err as Error).message, err);
  }
  if ('stopped' in outcome)
    throw await withLogs(
      `${outcome.stopped} is not running, waiting for ${what}`,
    );
  return outcome.value;
}

/** GET `url`: whether it answered 200 (false on any error). */
export async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** A port of the host free now (on every address, as podman publishes), for `-p <port>:...`: podman 4.3 refuses port 0. */
export function freeHostPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
