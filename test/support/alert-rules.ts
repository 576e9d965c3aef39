import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';

export interface AlertRule {
  alert: string;
  expr: string;
  runbookUrl?: string;
}

/** The alerting rules of a Prometheus rules file (`groups[].rules[]` with an `alert`). */
export function alertRules(text: string): AlertRule[] {
  const file = parse(text) as {
    groups: {
      rules: {
        alert?: string;
        expr: string;
        annotations?: { runbook_url?: string };
      }[];
    }[];
  };
  return file.groups.flatMap((group) =>
    group.rules
      .filter((rule) => rule.alert !== undefined)
      .map((rule) => ({
        alert: rule.alert!,
        expr: String(rule.expr).trim(),
        runbookUrl: rule.annotations?.runbook_url,
      })),
  );
}

const NOT_METRICS = new Set([
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: its identifiers once strings, label matchers,
 * ranges, durations, `by (...)`-style label lists and function calls are left out.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#.*$/gm, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(
      /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
      ' ',
    );
  const names = new Set<string>();
  for (const match of bare.matchAll(
    /(?<![\w:.])[a-zA-Z_:][\w:]*(?=\s*(\(?))/g,
  )) {
    if (match[1] === '(' || NOT_METRICS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names].sort();
}

export interface Exposition {
  /** Names that have at least one sample. */
  sampled: Set<string>;
  /** Every metric family declared by a `# TYPE` line, with its type. */
  declared: Map<string, string>;
}

/** What a Prometheus text exposition holds, by name. */
export function exposition(text: string): Exposition {
  const sampled = new Set<string>();
  const declared = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) declared.set(type[1], type[2]);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{.*\})? \S+/.exec(line);
    if (sample) sampled.add(sample[1]);
  }
  return { sampled, declared };
}

/**
 * Runs promtool; fails with a line saying how to install it when it is not on the PATH
 * (the alert rules' tests never skip).
 */
export async function promtool(
  args: string[],
  cwd: string,
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('promtool', args, {
      cwd,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & {
      code?: number | string;
      stdout?: string;
      stderr?: string;
    };
    if (e.code === 'ENOENT')
      throw new Error(
        "promtool is not on the PATH: install Debian's prometheus package (apt-get install --no-install-recommends prometheus), as .ci/run does",
        { cause: err },
      );
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      output: `${e.stdout ?? ''}${e.stderr ?? ''}`,
    };
  }
}
