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

describe('operations variables', () => {
  it('have defaults: pretty info logs, health on 3001, no dashboard password, 600 purchases a minute, no proxy', () => {
    expect(validatePodiumEnv({})).toMatchObject({
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'info',
      HEALTH_PORT: 3001,
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: undefined,
      PURCHASE_RATE_LIMIT: 600,
      TRUST_PROXY: 0,
    });
  });

  it('are read and checked', () => {
    const env = validatePodiumEnv({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug', HEALTH_PORT: '0', PURCHASE_RATE_LIMIT: '0', TRUST_PROXY: '1' });
    expect(env).toMatchObject({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug', HEALTH_PORT: 0, PURCHASE_RATE_LIMIT: 0, TRUST_PROXY: 1 });
    expect(() => validatePodiumEnv({ LOG_LEVEL: 'loud' })).toThrow('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent');
    expect(() => validatePodiumEnv({ HEALTH_PORT: 'x' })).toThrow(/HEALTH_PORT must be an integer/);
    expect(() => validatePodiumEnv({ PURCHASE_RATE_LIMIT: '-1' })).toThrow(/PURCHASE_RATE_LIMIT must not be less than 0/);
    expect(() => validatePodiumEnv({ DASHBOARD_PASSWORD: 'secret' })).toThrow('DASHBOARD_PASSWORD must be at least 12 characters');
    expect(() => validatePodiumEnv({ DASHBOARD_USER: 'a:b' })).toThrow(/DASHBOARD_USER must be 1 to 100 characters, without ":"/);
  });
});
