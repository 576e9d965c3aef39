import { jest } from '@jest/globals';
import { currentLogContext, withLogContext } from './log-context.js';
import {
  escapeLogText,
  nestLogLevels,
  prettyLogger,
  SafeConsoleLogger,
} from './logging.js';

describe('nestLogLevels', () => {
  it("maps LOG_LEVEL to Nest's console levels", () => {
    expect(nestLogLevels('info')).toEqual(['fatal', 'error', 'warn', 'log']);
    expect(nestLogLevels('trace')).toEqual([
      'fatal',
      'error',
      'warn',
      'log',
      'debug',
      'verbose',
    ]);
    expect(nestLogLevels('error')).toEqual(['fatal', 'error']);
    expect(nestLogLevels('silent')).toBe(false);
  });
});

describe('withLogContext', () => {
  it('keeps the fields across awaits, nests, and ends with the call', async () => {
    expect(currentLogContext()).toBeUndefined();
    await withLogContext({ listener: 'sales-summary' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(currentLogContext()).toEqual({ listener: 'sales-summary' });
      await withLogContext({ orderId: 'A1' }, async () => {
        await Promise.resolve();
        expect(currentLogContext()).toEqual({
          listener: 'sales-summary',
          orderId: 'A1',
        });
      });
      expect(currentLogContext()).toEqual({ listener: 'sales-summary' });
    });
    expect(currentLogContext()).toBeUndefined();
  });
});

describe('escapeLogText', () => {
  it('writes controls, line separators and lone surrogates as escapes, and nothing else', () => {
    expect(escapeLogText('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
    expect(
      escapeLogText('\u0000\u001b[31m\u007f\u0085\u009b\u2028\u2029'),
    ).toBe('\\u0000\\u001b[31m\\u007f\\u0085\\u009b\\u2028\\u2029');
    expect(escapeLogText('lone \ud800 and \udc00')).toBe(
      'lone \\ud800 and \\udc00',
    );
    expect(escapeLogText('Zoë 👩‍🚀 名前 100m [Final]* a\\nb')).toBe(
      'Zoë 👩‍🚀 名前 100m [Final]* a\\nb',
    );
  });

  it('hides the password of a URL', () => {
    expect(escapeLogText('cannot reach redis://app:s3cret@cache:6379')).toBe(
      'cannot reach redis://app:***@cache:6379',
    );
  });
});

describe('SafeConsoleLogger', () => {
  /** What the logger writes to stdout and stderr during fn. */
  function written(fn: () => void): string {
    const chunks: string[] = [];
    const keep = (chunk: string | Uint8Array) => chunks.push(String(chunk)) > 0;
    const spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation(keep),
    );
    try {
      fn();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    return chunks.join('');
  }

  const logger = new SafeConsoleLogger({ colors: false });
  const forged =
    '===> Winner!!!!! Opening Ceremony Lottery - Order Id: FORGED00001';

  it('writes one line per message, whatever the message holds', () => {
    const text = written(() =>
      logger.log(`Purchase Judo\n${forged}`, 'EventAlerts'),
    );
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text).toContain(`[EventAlerts] Purchase Judo\\n${forged}`);
  });

  it("keeps a stack trace's frames on their lines; any other line of it joins the line before, escaped", () => {
    const error = new Error(
      `boom\n${forged}\n    at fake (file:///x.js:1:2)\n${forged} (file:///x.js:1:2)`,
    );
    const text = written(() =>
      logger.error(error.message, error.stack, 'Test'),
    );
    const lines = text.split('\n').filter(Boolean);
    expect(lines[0]).toContain(`[Test] boom\\n${forged}\\n    at fake`);
    expect(lines[1]).toBe(`Error: boom\\n${forged}`);
    // A line of the message shaped like a frame stays a line, but what follows it cannot start one.
    expect(lines[2]).toBe(
      `    at fake (file:///x.js:1:2)\\n${forged} (file:///x.js:1:2)`,
    );
    expect(lines.slice(3).every((line) => /^ {4}at \S/.test(line))).toBe(true);
    expect(lines.length).toBeGreaterThan(3); // the real frames
  });

  it('prettyLogger follows LOG_LEVEL', () => {
    expect(prettyLogger('silent')).toBe(false);
    const warnOnly = prettyLogger('warn') as SafeConsoleLogger;
    expect(written(() => warnOnly.log('hidden'))).toBe('');
    expect(written(() => warnOnly.warn('shown'))).toContain('shown');
  });
});
