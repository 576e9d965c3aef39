--[[
  Counts one request of a client on a rate-limited route, for @nestjs/throttler
  (RedisThrottlerStorage): a fixed window that starts with the client's first request; the
  request past the limit blocks the client, and its requests are then refused, uncounted,
  until the block ends and a new window starts. One key, so it runs on any node of a cluster.

  KEYS[1]  the client's count on the route (podium:rate-limit:<route>:<client>), a hash:
           `hits`, and `blocked` once the limit was passed; it expires when its window
           ends, or its block
  ARGV[1]  the window, ms (> 0)
  ARGV[2]  the limit: requests a window
  ARGV[3]  how long a client past the limit is refused, ms (0 or less: until its window ends)
  Returns: {hits, ms until the window (or the block) ends, 1 blocked or 0, ms until the
           block ends (0 when not blocked)}
]]
local key = KEYS[1]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local block = tonumber(ARGV[3])

if redis.call('HEXISTS', key, 'blocked') == 1 then
  local left = redis.call('PTTL', key)
  return {tonumber(redis.call('HGET', key, 'hits')), left, 1, left}
end

local hits = redis.call('HINCRBY', key, 'hits', 1)
local left = redis.call('PTTL', key)
if left < 0 then
  -- A new window (a key without an expiry, written by hand, starts one too).
  redis.call('PEXPIRE', key, window)
  left = window
end
if hits <= limit then return {hits, left, 0, 0} end

if block > 0 then
  redis.call('HSET', key, 'blocked', 1)
  redis.call('PEXPIRE', key, block)
  left = block
end
return {hits, left, 1, left}
