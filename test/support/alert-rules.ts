import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface AlertRule {
  alert: string;
  expr: string;
  runbookUrl?: string;
}

/**
 * The alerting rules of a Prometheus rules file as podium writes it: `- alert:` lines, each
 * with its `expr:` on the line or as a block scalar (`|`, the more indented lines after) and
 * its `runbook_url:`. Not a YAML parser: the caller checks the count against promtool's.
 */
export function alertRules(text: string): AlertRule[] {
  const rules: AlertRule[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const alert = /^\s*- alert: (\S+)\s*$/.exec(lines[i]);
    if (alert) rules.push({ alert: alert[1], expr: '' });
    const runbook = /^\s*runbook_url: '?([^'\s]+)'?\s*$/.exec(lines[i]);
    if (runbook && rules.length > 0) rules.at(-1)!.runbookUrl = runbook[1];
    const expr = /^(\s*)expr: (.*)$/.exec(lines[i]);
    if (!expr || rules.length === 0) continue;
    let body = expr[2];
    if (/^[|>][-+]?\s*$/.test(body)) {
      const indent = expr[1].length;
      const block: string[] = [];
      while (
        i + 1 < lines.length &&
        (lines[i + 1].trim() === '' || lines[i + 1].search(/\S/) > indent)
      )
        block.push(lines[++i]);
      body = block.join('\n');
    }
    rules.at(-1)!.expr = body.trim();
  }
  return rules;
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
