import { currentLogContext, withLogContext } from './log-context.js';
import { nestLogLevels } from './logging.js';

describe('nestLogLevels', () => {
  it("maps LOG_LEVEL to Nest's console levels", () => {
    expect(nestLogLevels('info')).toEqual(['fatal', 'error', 'warn', 'log']);
    expect(nestLogLevels('trace')).toEqual(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']);
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
        expect(currentLogContext()).toEqual({ listener: 'sales-summary', orderId: 'A1' });
      });
      expect(currentLogContext()).toEqual({ listener: 'sales-summary' });
    });
    expect(currentLogContext()).toBeUndefined();
  });
});
