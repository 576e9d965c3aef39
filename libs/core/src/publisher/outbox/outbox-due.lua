--[[
  The outbox entries made long enough ago (on Redis's clock) for their process to count as
  dead: those a relay queues.

  KEYS[1]  the outbox (podium:outbox; on a cluster, one place's)
  ARGV[1]  the grace, ms: entries made more than this long ago are due
  ARGV[2]  at most this many entries
  Returns: the due entries, oldest first
]]
--@include "../../queues/includes/now-ms.lua"

local now = now_ms()
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
