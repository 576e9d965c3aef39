import { parseListenerNames, validatePodiumEnv } from './podium-env.js';

describe('validatePodiumEnv', () => {
  it('fills defaults', () => {
    const env = validatePodiumEnv({});
    expect(env).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:6379', PORT: 3000, HISTOGRAM_ENCODING: 'u32', ALERTS_MAX: 1000 });
  });

  it('converts numbers', () => {
    expect(validatePodiumEnv({ PORT: '8080' }).PORT).toBe(8080);
  });

  it('names the variable that is wrong', () => {
    expect(() => validatePodiumEnv({ PORT: 'eighty' })).toThrow(/PORT must be an integer/);
    expect(() => validatePodiumEnv({ HISTOGRAM_ENCODING: 'u16' })).toThrow(/HISTOGRAM_ENCODING must be one of u32, seed-u8/);
    expect(() => validatePodiumEnv({ REDIS_URL: 'localhost' })).toThrow(/REDIS_URL/);
  });
});

describe('delivery modes', () => {
  it('reads the default and the per-listener overrides', () => {
    const env = validatePodiumEnv({ DELIVERY: 'queued', DELIVERY_SALES_HISTOGRAM: 'durable' });
    expect(env.DELIVERY).toBe('queued');
    expect(env.deliveryOverrides).toEqual({ DELIVERY_SALES_HISTOGRAM: 'durable' });
  });

  it('names an unknown mode', () => {
    expect(() => validatePodiumEnv({ DELIVERY: 'reliable' })).toThrow('DELIVERY must be one of ephemeral, queued, durable');
    expect(() => validatePodiumEnv({ DELIVERY_EVENT_ALERTS: 'fast' })).toThrow('DELIVERY_EVENT_ALERTS must be one of');
  });
});

describe('parseListenerNames', () => {
  it('splits and trims, empty means all', () => {
    expect(parseListenerNames(' a, b ,')).toEqual(['a', 'b']);
    expect(parseListenerNames('')).toBeUndefined();
    expect(parseListenerNames(undefined)).toBeUndefined();
  });
});
