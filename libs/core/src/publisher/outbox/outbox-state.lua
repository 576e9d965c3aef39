--[[
  The outbox's size and age, both read on Redis's clock.

  KEYS[1]  the outbox (podium:outbox; on a cluster, one place's)
  Returns: {entries, ms since the oldest entry was recorded (0 when empty)}
]]
--@include "../../queues/includes/now-ms.lua"

local now = now_ms()
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local age = 0
if oldest[2] then age = math.max(0, now - tonumber(oldest[2])) end
return {redis.call('ZCARD', KEYS[1]), age}
