import { redisUnavailableReason } from './redis-unavailable.js';

describe('redisUnavailableReason', () => {
  it.each([
    ["Stream isn't writeable and enableOfflineQueue options is false", 'down'],
    ['LOADING Redis is loading the dataset in memory', 'down'],
    [
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
      'down',
    ],
    // A cluster node refusing a command during a failover: it did not run.
    ['MOVED 7820 127.0.0.1:41485', 'down'],
    ['ASK 7820 127.0.0.1:41485', 'down'],
    ['CLUSTERDOWN The cluster is down', 'down'],
    [
      'All keys in the pipeline should belong to the same slots allocation group',
      'down',
    ],
    ['CLUSTERDOWN Hash slot not served', 'down'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'down'],
    [
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
      'no-answer',
    ],
    ['Command timed out', 'no-answer'],
    ['Connection is closed.', 'no-answer'],
    // ioredis, for a pipelined command (auto-pipelining too) cut by a dropped connection.
    ['Command aborted due to connection close', 'no-answer'],
    ['Reached the max retries per request limit (which is 0).', 'no-answer'],
    ['connect ECONNREFUSED 127.0.0.1:6379', 'no-answer'],
    ['OOM command not allowed when used memory > maxmemory.', 'out-of-memory'],
    ["READONLY You can't write against a read only replica.", 'read-only'],
    ['MISCONF Redis is configured to save RDB snapshots', 'read-only'],
  ])('%j is %s', (message, reason) => {
    expect(redisUnavailableReason(new Error(message))).toBe(reason);
  });

  it('anything else is a bug, not Redis being unavailable', () => {
    expect(
      redisUnavailableReason(new Error('ERR unknown command')),
    ).toBeUndefined();
    expect(redisUnavailableReason('READONLY')).toBeUndefined();
  });
});
