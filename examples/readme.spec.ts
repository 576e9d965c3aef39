import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The README sections whose code is the files of a folder of examples/: every ```ts block there starts with `// <its file>`. */
const RECIPES = [
  { section: '## Adding a listener', folder: 'examples/big-spenders' },
  { section: '## Use podium in your app', folder: 'examples/own-app' },
];

/** The ```ts blocks of a README section (up to the next ## heading), by the file each names on its first line. */
function quotedFiles(readme: string, heading: string): Map<string, string> {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = new Map<string, string>();
  for (const [, body] of section.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const [first, ...rest] = body.split('\n');
    const path = /^\/\/ (\S+\.ts)$/.exec(first)?.[1];
    if (!path)
      throw new Error(
        `a ts block under "${heading}" does not start with "// <file>": ${first}`,
      );
    blocks.set(path, rest.join('\n'));
  }
  return blocks;
}

const exampleFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? exampleFiles(join(dir, entry.name))
      : [join(dir, entry.name)],
  );

// They compile and run: the suite's build (tsconfig.apps.json, run by test/global-setup.js)
// type-checks examples/big-spenders, whose spec is in the suite; examples/own-app is a project
// of its own, built and tested on the packed packages by `npm run test:example`.
describe.each(RECIPES)(
  "the README's $section is the files of $folder",
  ({ section, folder }) => {
    const quoted = quotedFiles(
      readFileSync(join(ROOT, 'README.md'), 'utf8'),
      section,
    );
    const recipe = exampleFiles(join(ROOT, folder))
      .map((file) => relative(ROOT, file))
      .filter((file) => file.endsWith('.ts') && !file.includes('node_modules'))
      .sort();

    it('quotes every file, verbatim', () => {
      expect([...quoted.keys()].sort()).toEqual(recipe);
      for (const path of recipe)
        expect({ path, code: quoted.get(path) }).toEqual({
          path,
          code: readFileSync(join(ROOT, path), 'utf8'),
        });
    });
  },
);
