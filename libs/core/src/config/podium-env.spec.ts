import { parseListenerNames, validatePodiumEnv } from './podium-env.js';

describe('validatePodiumEnv', () => {
  it('fills defaults', () => {
    const env = validatePodiumEnv({});
    expect(env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: 3000,
    });
  });

  it('converts numbers', () => {
    expect(validatePodiumEnv({ PORT: '8080' }).PORT).toBe(8080);
  });

  it('names the variable that is wrong', () => {
    expect(() => validatePodiumEnv({ PORT: 'eighty' })).toThrow(
      /PORT must be an integer/,
    );
    expect(() => validatePodiumEnv({ REDIS_URL: 'localhost' })).toThrow(
      /REDIS_URL/,
    );
  });
});

describe('delivery modes', () => {
  it('reads the default and the per-listener overrides', () => {
    const env = validatePodiumEnv({
      DELIVERY: 'queued',
      DELIVERY_SALES_HISTOGRAM: 'durable',
    });
    expect(env.DELIVERY).toBe('queued');
    expect(env.deliveryOverrides).toEqual({
      DELIVERY_SALES_HISTOGRAM: 'durable',
    });
  });

  it('names an unknown mode', () => {
    expect(() => validatePodiumEnv({ DELIVERY: 'reliable' })).toThrow(
      'DELIVERY must be one of ephemeral, queued, durable',
    );
    expect(() => validatePodiumEnv({ DELIVERY_EVENT_ALERTS: 'fast' })).toThrow(
      'DELIVERY_EVENT_ALERTS must be one of',
    );
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
  it('have defaults: pretty info logs, health on 3001, no operator credentials, 600 purchases and 60 events a minute, no proxy', () => {
    expect(validatePodiumEnv({})).toMatchObject({
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'info',
      HEALTH_PORT: 3001,
      OPERATOR_USER: undefined,
      OPERATOR_PASSWORD: undefined,
      PURCHASE_RATE_LIMIT: 600,
      EVENT_RATE_LIMIT: 60,
      TRUST_PROXY: 0,
    });
  });

  it('are read and checked', () => {
    const env = validatePodiumEnv({
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      HEALTH_PORT: '0',
      PURCHASE_RATE_LIMIT: '0',
      TRUST_PROXY: '1',
    });
    expect(env).toMatchObject({
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      HEALTH_PORT: 0,
      PURCHASE_RATE_LIMIT: 0,
      TRUST_PROXY: 1,
    });
    expect(() => validatePodiumEnv({ LOG_LEVEL: 'loud' })).toThrow(
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    );
    expect(() => validatePodiumEnv({ HEALTH_PORT: 'x' })).toThrow(
      /HEALTH_PORT must be an integer/,
    );
    expect(() => validatePodiumEnv({ PURCHASE_RATE_LIMIT: '-1' })).toThrow(
      /PURCHASE_RATE_LIMIT must not be less than 0/,
    );
    expect(() => validatePodiumEnv({ EVENT_RATE_LIMIT: 'many' })).toThrow(
      /EVENT_RATE_LIMIT must be an integer/,
    );
  });
});

describe('operator credentials', () => {
  const password = 'correct horse battery staple';

  it('are read as a pair', () => {
    expect(
      validatePodiumEnv({ OPERATOR_USER: 'ops', OPERATOR_PASSWORD: password }),
    ).toMatchObject({ OPERATOR_USER: 'ops', OPERATOR_PASSWORD: password });
  });

  it('refuse one without the other, naming the missing one', () => {
    expect(() => validatePodiumEnv({ OPERATOR_PASSWORD: password })).toThrow(
      'OPERATOR_USER and OPERATOR_PASSWORD go together: OPERATOR_USER is not set',
    );
    expect(() => validatePodiumEnv({ OPERATOR_USER: 'ops' })).toThrow(
      'OPERATOR_USER and OPERATOR_PASSWORD go together: OPERATOR_PASSWORD is not set',
    );
  });

  it('refuse a short password or a user name with ":", and never echo the password', () => {
    expect(() =>
      validatePodiumEnv({ OPERATOR_USER: 'ops', OPERATOR_PASSWORD: 'hunter2' }),
    ).toThrow('OPERATOR_PASSWORD must be at least 12 characters');
    expect(() =>
      validatePodiumEnv({ OPERATOR_USER: 'a:b', OPERATOR_PASSWORD: password }),
    ).toThrow(
      /OPERATOR_USER must be 1 to 100 printable ASCII characters, without ":"/,
    );
    expect(() =>
      validatePodiumEnv({ OPERATOR_USER: 'ops', OPERATOR_PASSWORD: 'hunter2' }),
    ).not.toThrow(/hunter2/);
  });

  it('replace DASHBOARD_USER and DASHBOARD_PASSWORD, which stop start-up with a line saying so', () => {
    expect(() => validatePodiumEnv({ DASHBOARD_PASSWORD: password })).toThrow(
      'DASHBOARD_PASSWORD was replaced by OPERATOR_USER and OPERATOR_PASSWORD',
    );
    expect(() =>
      validatePodiumEnv({
        DASHBOARD_USER: 'admin',
        DASHBOARD_PASSWORD: password,
      }),
    ).toThrow(
      'DASHBOARD_USER and DASHBOARD_PASSWORD were replaced by OPERATOR_USER and OPERATOR_PASSWORD',
    );
  });
});

describe('outbox variables', () => {
  it('default to a 5 s grace, a relay pass every second, a warning past 30 s', () => {
    expect(validatePodiumEnv({})).toMatchObject({
      OUTBOX_GRACE_MS: 5000,
      OUTBOX_RELAY_INTERVAL_MS: 1000,
      OUTBOX_WARN_AGE_SECONDS: 30,
    });
  });

  it('are read and checked', () => {
    const env = validatePodiumEnv({
      OUTBOX_GRACE_MS: '250',
      OUTBOX_RELAY_INTERVAL_MS: '50',
      OUTBOX_WARN_AGE_SECONDS: '5',
    });
    expect(env).toMatchObject({
      OUTBOX_GRACE_MS: 250,
      OUTBOX_RELAY_INTERVAL_MS: 50,
      OUTBOX_WARN_AGE_SECONDS: 5,
    });
    expect(() => validatePodiumEnv({ OUTBOX_GRACE_MS: '10' })).toThrow(
      'OUTBOX_GRACE_MS must be at least 100',
    );
    expect(() =>
      validatePodiumEnv({ OUTBOX_RELAY_INTERVAL_MS: 'often' }),
    ).toThrow(/OUTBOX_RELAY_INTERVAL_MS must be an integer/);
    expect(() => validatePodiumEnv({ OUTBOX_WARN_AGE_SECONDS: '0' })).toThrow(
      'OUTBOX_WARN_AGE_SECONDS must be at least 1',
    );
  });
});

describe('high-availability variables', () => {
  it('default to the one server of REDIS_URL, no WAIT, a 500 ms WAIT timeout', () => {
    expect(validatePodiumEnv({})).toMatchObject({
      redisTarget: {
        kind: 'standalone',
        node: { host: '127.0.0.1', port: 6379 },
      },
      REDIS_WAIT_REPLICAS: 0,
      REDIS_WAIT_TIMEOUT_MS: 500,
    });
  });

  it('put every connection behind Sentinel with REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
    const env = validatePodiumEnv({
      REDIS_URL: 'redis://:pw@unused:6379/1',
      REDIS_SENTINELS: '127.0.0.1:26379,[::1]:26380',
      REDIS_SENTINEL_NAME: 'podium',
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '250',
    });
    expect(env.redisTarget).toMatchObject({
      kind: 'sentinel',
      name: 'podium',
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      login: { password: 'pw', db: 1 },
    });
    expect(env).toMatchObject({
      REDIS_WAIT_REPLICAS: 1,
      REDIS_WAIT_TIMEOUT_MS: 250,
    });
  });

  it('stop start-up with one line naming the variable', () => {
    const line = (raw: Record<string, string>) => {
      try {
        validatePodiumEnv(raw);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(line({ REDIS_SENTINELS: '127.0.0.1:26379' })).toBe(
      'Invalid configuration: REDIS_SENTINELS and REDIS_SENTINEL_NAME go together: REDIS_SENTINEL_NAME is not set',
    );
    expect(
      line({ REDIS_SENTINELS: 'localhost', REDIS_SENTINEL_NAME: 'podium' }),
    ).toBe(
      'Invalid configuration: REDIS_SENTINELS must be a comma-separated list of host:port (IPv6 in brackets: [::1]:26379): got "localhost"',
    );
    expect(line({ REDIS_WAIT_REPLICAS: '-1' })).toBe(
      'Invalid configuration: REDIS_WAIT_REPLICAS must be at least 0',
    );
    expect(line({ REDIS_WAIT_REPLICAS: 'one' })).toMatch(
      /^Invalid configuration: .*REDIS_WAIT_REPLICAS must be an integer/,
    );
    expect(line({ REDIS_WAIT_TIMEOUT_MS: '0' })).toBe(
      'Invalid configuration: REDIS_WAIT_TIMEOUT_MS must be at least 1',
    );
    expect(line({ REDIS_WAIT_TIMEOUT_MS: '5000' })).toBe(
      'Invalid configuration: REDIS_WAIT_TIMEOUT_MS must be at most 1500 (a failFast app gives every Redis command 2 s)',
    );
    expect(line({ REDIS_URL: 'redis://:hunter2@127.0.0.1:99999' })).toBe(
      'Invalid configuration: REDIS_URL is not a valid URL: "redis://:***@127.0.0.1:99999" (the form is redis[s]://[user:password@]host:port[/db])',
    );
  });
});
