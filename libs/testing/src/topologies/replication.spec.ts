import { PrivateRedis } from '../private-redis.js';

describe('PrivateRedis replication', () => {
  let primary: PrivateRedis | undefined;
  let replica: PrivateRedis | undefined;
  afterAll(async () => {
    await Promise.all([primary?.destroy(), replica?.destroy()]);
  });

  it('starts a replica that syncs, is promoted, follows again and keeps its port and role across restarts', async () => {
    primary = await PrivateRedis.start();
    replica = await PrivateRedis.start({ replicaOf: primary });

    await replica.waitForSync();
    expect(await replica.role()).toMatchObject({
      role: 'replica',
      primary: { host: '127.0.0.1', port: primary.port },
      state: 'connected',
    });
    expect(await primary.role()).toMatchObject({
      role: 'master',
      replicas: [{ port: replica.port }],
    });

    await primary.client().set('written', 'on the primary');
    await replica.waitForSync();
    expect(await replica.client().get('written')).toBe('on the primary');
    await expect(replica.call('SET', 'x', '1')).rejects.toThrow(/READONLY/);

    const port = replica.port;
    await replica.restart();
    expect(replica.port).toBe(port);
    await replica.waitForSync();
    expect((await replica.role()).role).toBe('replica');
    expect(await replica.call('GET', 'written')).toBe('on the primary');

    // The replica takes over; the old primary follows it and gets what it writes.
    await replica.promote();
    expect((await replica.role()).role).toBe('master');
    await replica.call('SET', 'written', 'on the promoted replica');
    await primary.replicate(replica);
    await primary.waitForSync();
    expect(await primary.call('GET', 'written')).toBe(
      'on the promoted replica',
    );

    // A killed server told to follow another comes back as its replica.
    await replica.kill();
    await replica.replicate(primary);
    await primary.promote();
    await replica.start();
    await replica.waitForSync();
    expect(await replica.role()).toMatchObject({
      role: 'replica',
      primary: { port: primary.port },
    });
    expect((await primary.role()).role).toBe('master');
  });
});
