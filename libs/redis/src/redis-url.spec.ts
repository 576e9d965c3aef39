import { redisOptionsFromUrl } from './redis-url.js';

describe('redisOptionsFromUrl', () => {
  it('reads host, port, credentials and database', () => {
    expect(redisOptionsFromUrl('redis://app:s%40cret@10.0.0.5:6380/2')).toEqual({
      host: '10.0.0.5', port: 6380, username: 'app', password: 's@cret', db: 2,
    });
  });

  it('turns rediss:// into TLS', () => {
    expect(redisOptionsFromUrl('rediss://:pw@cache.example:6390')).toMatchObject({ password: 'pw', tls: {} });
  });

  it('names REDIS_URL when the URL is wrong', () => {
    expect(() => redisOptionsFromUrl('localhost:6379')).toThrow(/REDIS_URL/);
    expect(() => redisOptionsFromUrl('http://localhost')).toThrow(/REDIS_URL must start/);
  });
});
