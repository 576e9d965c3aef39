import { globSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import luaparse from 'luaparse';
import { resolveLua, type LuaSource } from './lua-script.js';

/*
 * The lint of podium's Lua: every .lua file, its includes resolved by the loader the
 * scripts use, must parse as Lua 5.1 (the Lua Redis runs), and may not assign a global
 * (Redis refuses a script that does, but only when it runs that line).
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const files = globSync('{libs,apps,test,examples}/**/*.lua', {
  cwd: root,
  exclude: (path) => /(^|\/)node_modules(\/|$)/.test(path),
}).sort();
const RECORD = 'libs/core/src/publisher/record/record.lua';
/** Message types' admissions: each runs ahead of record.lua, in one script. */
const admissions = files.filter((file) =>
  /^local function admit\(/m.test(readFileSync(join(root, file), 'utf8')),
);

/** "file:line" of a line of the resolved script, relative to the project. */
function where(source: LuaSource, line: number): string {
  const at = source.lines[Math.min(line, source.lines.length) - 1];
  return `${relative(root, at.file)}:${at.line}`;
}

/** Set on identifiers by luaparse's `scope` option (not in its types). */
const isLocal = (identifier: object) =>
  (identifier as { isLocal?: boolean }).isLocal === true;

describe('the Lua files', () => {
  it('are found beside the code that runs them', () => {
    expect(files).toContain('libs/core/src/publisher/record/record.lua');
    expect(files).toContain('libs/core/src/delivery/effects/effects.lua');
  });

  it.each(files)('%s is Lua 5.1, its includes resolved', (file) => {
    lint(resolveLua(join(root, file)));
  });

  it('has admissions, each of which makes one script with record.lua', () => {
    expect(admissions).toEqual(
      expect.arrayContaining([
        'libs/core/src/publisher/record/includes/admit-all.lua',
        'libs/orders/src/purchase-admission.lua',
      ]),
    );
  });

  it.each(admissions)('%s ahead of record.lua is Lua 5.1', (file) => {
    lint(resolveLua([join(root, file), join(root, RECORD)]));
  });
});

/** Parses a resolved script as Lua 5.1 and refuses an assignment to a global, naming the file and line. */
function lint(source: LuaSource): void {
  const globals: string[] = [];
  try {
    luaparse.parse(source.text, {
      luaVersion: '5.1',
      scope: true,
      locations: true,
      onCreateNode: (node) => {
        const targets =
          node.type === 'AssignmentStatement'
            ? node.variables
            : node.type === 'FunctionDeclaration' && !node.isLocal
              ? [node.identifier]
              : [];
        for (const target of targets)
          if (target?.type === 'Identifier' && !isLocal(target))
            globals.push(
              `${where(source, target.loc!.start.line)}: assigns the global ${target.name}`,
            );
      },
    });
  } catch (err) {
    const { line, message } = err as { line?: number; message: string };
    if (line === undefined) throw err;
    // luaparse's "[line:column]" counts in the resolved script: name the file's own line.
    throw new Error(
      `${where(source, line)}: ${message.replace(/^\[\d+:\d+\] /, '')}`,
      { cause: err },
    );
  }
  expect(globals).toEqual([]);
}
