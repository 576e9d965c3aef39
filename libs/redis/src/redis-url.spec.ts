import {
  hideUrlPassword,
  redactSecrets,
  redisOptionsFromUrl,
} from './redis-url.js';

describe('redisOptionsFromUrl', () => {
  it('reads host, port, credentials and database', () => {
    expect(redisOptionsFromUrl('redis://app:s%40cret@10.0.0.5:6380/2')).toEqual(
      {
        host: '10.0.0.5',
        port: 6380,
        username: 'app',
        password: 's@cret',
        db: 2,
      },
    );
  });

  it('turns rediss:// into TLS', () => {
    expect(
      redisOptionsFromUrl('rediss://:pw@cache.example:6390'),
    ).toMatchObject({ password: 'pw', tls: {} });
  });

  it('names REDIS_URL when the URL is wrong', () => {
    expect(() => redisOptionsFromUrl('localhost:6379')).toThrow(/REDIS_URL/);
    expect(() => redisOptionsFromUrl('http://localhost')).toThrow(
      /REDIS_URL must start/,
    );
  });
});

describe('secrets in messages', () => {
  it('a malformed REDIS_URL is named without its password', () => {
    const attempt = () =>
      redisOptionsFromUrl('redis://:hunter2secret@127.0.0.1:99999');
    expect(attempt).toThrow(
      'REDIS_URL is not a valid URL: "redis://:***@127.0.0.1:99999" (the form is redis[s]://[user:password@]host:port[/db])',
    );
    expect(attempt).not.toThrow(/hunter2secret/);
    expect(() =>
      redisOptionsFromUrl('redis://app:p@ss w0rd@host:1x'),
    ).not.toThrow(/p@ss|w0rd/);
  });

  it('hideUrlPassword keeps the user and the host', () => {
    expect(hideUrlPassword('rediss://podium:s3cret@cache:6380/1')).toBe(
      'rediss://podium:***@cache:6380/1',
    );
    expect(hideUrlPassword('redis://:pa@ss@cache')).toBe('redis://:***@cache');
    expect(hideUrlPassword('redis://cache:6379')).toBe('redis://cache:6379');
  });

  it('redactSecrets hides the credentials of every URL in a text', () => {
    expect(
      redactSecrets(
        'cannot reach redis://app:s3cret@10.0.0.5:6380 (rediss://:pa@ss@other:1, redis://token@x)',
      ),
    ).toBe(
      'cannot reach redis://app:***@10.0.0.5:6380 (rediss://:***@other:1, redis://***@x)',
    );
    expect(redactSecrets('connect ECONNREFUSED 127.0.0.1:6379')).toBe(
      'connect ECONNREFUSED 127.0.0.1:6379',
    );
  });
});
