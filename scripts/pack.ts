/**
 * `npm run pack`: the installable tarballs of podium's public packages, in packs/.
 *
 * Each package (libs/<name>, an npm workspace) is compiled with the rest by build-once into
 * dist/libs/<name>/src. This script stages what a user installs, in packs/.stage/<name>:
 * the package.json without the "podium-source" condition (which only the monorepo uses to
 * reach a package's TypeScript sources), the package's README and its compiled files (.js,
 * .d.ts and the Lua scripts). `npm pack` then makes packs/podium-<name>-<version>.tgz.
 * Private packages (the Olympics domain and its listeners) are not packed.
 *
 *   node scripts/pack.ts        (after node scripts/build-once.ts; `npm run pack` runs both)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const packs = path.join(root, 'packs');
const stageRoot = path.join(packs, '.stage');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports: Record<string, string | Record<string, string>>;
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
}

/** The package.json a user gets: the exports without the monorepo's source condition. */
function published(manifest: Manifest): Manifest {
  const exports: Manifest['exports'] = {};
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'string') exports[subpath] = target;
    else {
      const rest = { ...target };
      delete rest['podium-source'];
      exports[subpath] = rest;
    }
  }
  return { ...manifest, exports };
}

/** The compiled files, without source maps: the sources they point to are not shipped. */
function copyCompiled(from: string, to: string) {
  for (const rel of fs.readdirSync(from, {
    recursive: true,
    encoding: 'utf8',
  })) {
    const file = path.join(from, rel);
    if (!fs.statSync(file).isFile() || rel.endsWith('.map')) continue;
    fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(
      path.join(to, rel),
      text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'),
    );
  }
}

fs.rmSync(stageRoot, { recursive: true, force: true });
fs.mkdirSync(stageRoot, { recursive: true });
const rows: string[] = [];
for (const name of fs.readdirSync(path.join(root, 'libs')).sort()) {
  const dir = path.join(root, 'libs', name);
  const manifestFile = path.join(dir, 'package.json');
  if (!fs.existsSync(manifestFile)) continue;
  const manifest = JSON.parse(
    fs.readFileSync(manifestFile, 'utf8'),
  ) as Manifest;
  if (manifest.private) continue;
  const compiled = path.join(root, 'dist', 'libs', name, 'src');
  if (!fs.existsSync(path.join(compiled, 'index.js')))
    throw new Error(
      `${compiled}/index.js is missing: build first (npm run pack does)`,
    );
  const stage = path.join(stageRoot, name);
  fs.mkdirSync(stage);
  fs.writeFileSync(
    path.join(stage, 'package.json'),
    `${JSON.stringify(published(manifest), null, 2)}\n`,
  );
  if (fs.existsSync(path.join(dir, 'README.md')))
    fs.copyFileSync(path.join(dir, 'README.md'), path.join(stage, 'README.md'));
  copyCompiled(compiled, path.join(stage, 'dist'));
  const [result] = JSON.parse(
    execFileSync(
      'npm',
      ['pack', stage, '--pack-destination', packs, '--json', '--silent'],
      { cwd: root, encoding: 'utf8' },
    ),
  ) as PackResult[];
  rows.push(
    `${manifest.name}@${manifest.version}  packs/${result.filename}  ${(result.size / 1024).toFixed(1)} kB packed, ${(result.unpackedSize / 1024).toFixed(1)} kB unpacked, ${result.entryCount} files`,
  );
}
fs.rmSync(stageRoot, { recursive: true, force: true });
process.stdout.write(`${rows.join('\n')}\n`);
