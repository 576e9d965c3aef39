import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dist = (app: string) =>
  fileURLToPath(new URL(`../dist/apps/${app}/src/main.js`, import.meta.url));

/**
 * A Node older than 24 to start the compiled apps with: the machine's own when it has one
 * (the system `node` here is 20, on which Nest 12 dies with `Map.groupBy is not a
 * function`), else the project's Node 24 told to report an older version before anything loads.
 */
function olderNode(): { command: string; args: string[]; version: string } {
  const found = (
    spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout ?? ''
  )
    .split('\n')
    .filter(Boolean);
  for (const command of found) {
    const version = spawnSync(command, ['--version'], { encoding: 'utf8' })
      .stdout.trim()
      .replace(/^v/, '');
    if (version && Number(version.split('.')[0]) < 24)
      return { command, args: [], version };
  }
  const fake =
    'Object.defineProperty(process, "versions", { value: { ...process.versions, node: "20.0.0" } })';
  return {
    command: process.execPath,
    args: ['--import', `data:text/javascript,${encodeURIComponent(fake)}`],
    version: '20.0.0',
  };
}

describe('start-up on a Node older than 24', () => {
  const node = olderNode();

  it.each(['listeners', 'box-office'])(
    '%s: stops with one line naming Node 24, npm run start and .nvmrc',
    (app) => {
      const result = spawnSync(node.command, [...node.args, dist(app)], {
        env: {
          PATH: process.env.PATH,
          NO_COLOR: '1',
          REDIS_URL: 'redis://127.0.0.1:1',
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `podium needs Node 24 or newer, and this is Node ${node.version}: start it with \`npm run start:${app}\`, which runs the ` +
          "project's own Node 24 (installed by npm ci), or switch to Node 24 first (`nvm use` reads .nvmrc)\n",
      );
    },
  );
});
