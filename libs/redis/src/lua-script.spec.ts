import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LuaScript, resolveLua } from './lua-script.js';

describe('a .lua file and its includes', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'podium-lua-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes each include in place of its line, relative to the including file', () => {
    write('lib/includes/now.lua', 'local function now() return 1 end\n');
    write(
      'lib/includes/twice.lua',
      'local function twice(x) return 2 * x end\n',
    );
    const main = write(
      'app/main.lua',
      '-- main\n--@include "../lib/includes/now.lua"\n  --@include "../lib/includes/twice.lua"\nreturn twice(now())\n',
    );
    const source = resolveLua(main);
    expect(source.text).toBe(
      '-- main\nlocal function now() return 1 end\nlocal function twice(x) return 2 * x end\nreturn twice(now())\n',
    );
    // Each line knows where it comes from (the syntax check names the file and line).
    expect(source.lines).toEqual([
      { file: main, line: 1 },
      { file: join(dir, 'lib/includes/now.lua'), line: 1 },
      { file: join(dir, 'lib/includes/twice.lua'), line: 1 },
      { file: main, line: 4 },
    ]);
  });

  it('includes a file once, where it is first named, however many files name it', () => {
    write('clock.lua', 'local function clock() end\n');
    write('age.lua', '--@include "clock.lua"\nlocal function age() end\n');
    const main = write(
      'main.lua',
      '--@include "clock.lua"\n--@include "age.lua"\n--@include "clock.lua"\nreturn 0\n',
    );
    expect(resolveLua(main).text).toBe(
      'local function clock() end\nlocal function age() end\nreturn 0\n',
    );
  });

  it('refuses a cycle, naming its files', () => {
    write('a.lua', '--@include "b.lua"\n');
    write('b.lua', '--@include "c.lua"\n');
    write('c.lua', '--@include "a.lua"\n');
    expect(() => resolveLua(join(dir, 'a.lua'))).toThrow(
      /^Lua include cycle: \S*\/a\.lua -> \S*\/b\.lua -> \S*\/c\.lua -> \S*\/a\.lua$/,
    );
    write('self.lua', '--@include "self.lua"\n');
    expect(() => resolveLua(join(dir, 'self.lua'))).toThrow(/cycle/);
  });

  it('names the line of an include it cannot read', () => {
    const main = write('main.lua', 'return 1\n--@include "gone.lua"\n');
    expect(() => resolveLua(main)).toThrow(
      /main\.lua:2: cannot read \S*\/gone\.lua \(ENOENT/,
    );
  });

  it('becomes a LuaScript from a file URL, read once', () => {
    const main = write('main.lua', "return redis.call('PING')\n");
    const script = LuaScript.fromFile(pathToFileURL(main));
    writeFileSync(main, 'return 2\n');
    expect(script.lua).toBe("return redis.call('PING')\n");
  });
});
