import { connectionOptions } from './redis-connection.js';
import {
  describeRedisTarget,
  parseSentinels,
  redisTargetFrom,
  type SentinelTarget,
  type StandaloneTarget,
} from './redis-target.js';

describe('redisTargetFrom', () => {
  it('REDIS_URL alone: one server, with its credentials, database and TLS', () => {
    const target = redisTargetFrom({
      REDIS_URL: 'rediss://app:s%40cret@10.0.0.5:6380/2',
    });
    expect(target).toEqual({
      kind: 'standalone',
      node: { host: '10.0.0.5', port: 6380 },
      login: { username: 'app', password: 's@cret', db: 2, tls: true },
      shown: 'rediss://app:***@10.0.0.5:6380/2',
    });
    expect(
      connectionOptions(target as StandaloneTarget | SentinelTarget),
    ).toEqual({
      host: '10.0.0.5',
      port: 6380,
      username: 'app',
      password: 's@cret',
      db: 2,
      tls: {},
    });
    expect(describeRedisTarget(target)).not.toContain('s@cret');
  });

  it('Sentinel: the Sentinels and the name; REDIS_URL gives only credentials, database and TLS', () => {
    const target = redisTargetFrom({
      REDIS_URL: 'redis://:pw@ignored-host:1/3',
      REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'podium',
      REDIS_SENTINEL_PASSWORD: ' sentinel pass ',
    });
    expect(target).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'podium',
      sentinelPassword: ' sentinel pass ',
      login: { password: 'pw', db: 3, tls: false },
    });
    const options = connectionOptions(
      target as StandaloneTarget | SentinelTarget,
    );
    expect(options).toMatchObject({
      sentinels: target.kind === 'sentinel' && target.sentinels,
      name: 'podium',
      role: 'master',
      failoverDetector: true,
      password: 'pw',
      db: 3,
      sentinelPassword: ' sentinel pass ',
    });
    expect(options).not.toHaveProperty('host');
    expect(options).not.toHaveProperty('tls');
    // Keeps trying when every Sentinel is away.
    expect([1, 10, 1000].map((n) => options.sentinelRetryStrategy!(n))).toEqual(
      [100, 1000, 1000],
    );
    expect(describeRedisTarget(target)).toBe(
      'primary "podium" of Sentinels 10.0.0.1:26379,sentinel-b:26380,[::1]:26381',
    );
  });

  it('rediss:// behind Sentinel: TLS to the data nodes and to the Sentinels', () => {
    const options = connectionOptions(
      redisTargetFrom({
        REDIS_URL: 'rediss://cache',
        REDIS_SENTINELS: 's:26379',
        REDIS_SENTINEL_NAME: 'podium',
      }) as SentinelTarget,
    );
    expect(options).toMatchObject({
      tls: {},
      enableTLSForSentinelMode: true,
      sentinelTLS: {},
    });
  });

  it('one of REDIS_SENTINELS and REDIS_SENTINEL_NAME without the other names both', () => {
    expect(() =>
      redisTargetFrom({ REDIS_URL: 'redis://x', REDIS_SENTINELS: 'a:1' }),
    ).toThrow(
      'REDIS_SENTINELS and REDIS_SENTINEL_NAME go together: REDIS_SENTINEL_NAME is not set',
    );
    expect(() =>
      redisTargetFrom({ REDIS_URL: 'redis://x', REDIS_SENTINEL_NAME: 'p' }),
    ).toThrow(
      'REDIS_SENTINELS and REDIS_SENTINEL_NAME go together: REDIS_SENTINELS is not set',
    );
    expect(() =>
      redisTargetFrom({
        REDIS_URL: 'redis://x',
        REDIS_SENTINEL_PASSWORD: 'secret',
      }),
    ).toThrow(/REDIS_SENTINEL_PASSWORD is set but REDIS_SENTINELS is not/);
  });

  it('a bad name or URL is named', () => {
    expect(() =>
      redisTargetFrom({
        REDIS_URL: 'redis://x',
        REDIS_SENTINELS: 'a:1',
        REDIS_SENTINEL_NAME: 'my primary',
      }),
    ).toThrow(/REDIS_SENTINEL_NAME must be/);
    expect(() =>
      redisTargetFrom({
        REDIS_URL: 'redis://:hunter2@x:99999',
        REDIS_SENTINELS: 'a:1',
        REDIS_SENTINEL_NAME: 'p',
      }),
    ).toThrow(/^REDIS_URL is not a valid URL: "redis:\/\/:\*\*\*@x:99999"/);
  });
});

describe('parseSentinels', () => {
  it('reads host:port lists, IPv6 in brackets', () => {
    expect(parseSentinels('a:1,[fe80::1]:26379 , 10.1.2.3:65535')).toEqual([
      { host: 'a', port: 1 },
      { host: 'fe80::1', port: 26379 },
      { host: '10.1.2.3', port: 65535 },
    ]);
  });

  it.each([
    ['a', 'got "a"'],
    ['a:', 'got "a:"'],
    ['a:0', 'got "a:0"'],
    ['a:65536', 'got "a:65536"'],
    ['::1:26379', 'got "::1:26379"'],
    ['[10.0.0.1]:1', '"[10.0.0.1]:1" is not an IPv6 address'],
    ['[host]:1', 'got "[host]:1"'],
    ['a:1,,b:2', 'an empty entry'],
    ['a:1,A:1', '"A:1" is listed twice'],
    ['redis://a:1', 'got "redis://a:1"'],
    ['user@a:1', 'got "user@a:1"'],
  ])('refuses %j, naming REDIS_SENTINELS', (value, detail) => {
    expect(() => parseSentinels(value)).toThrow(
      `REDIS_SENTINELS must be a comma-separated list of host:port (IPv6 in brackets: [::1]:26379): ${detail}`,
    );
  });
});
