--[[
  Claims messages for a group: a message not yet queued for it (its markers do not say so:
  the publisher did not queue it as it recorded it, nor did another listeners process)
  is marked and entered in the outbox, in one atomic step, so that it is queued once
  however many processes heard it, and queued by a relay should this one die before its
  job exists.

  KEYS[1..n-1]  each message's markers (podium:applied:<message id>), one per message id
  KEYS[n]       the outbox (podium:outbox)
  ARGV[1]       the group
  ARGV[2]       its marker field (queued:<group>)
  ARGV[3]       the markers' TTL, seconds
  ARGV[4..]     the message ids, in the order of their markers
  Returns: the ids claimed now
]]
--@include "includes/now-ms.lua"
--@include "includes/outbox-entry.lua"

local now = now_ms()
local claimed = {}
for i = 1, #KEYS - 1 do
  if redis.call('HSETNX', KEYS[i], ARGV[2], '1') == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[3])
    redis.call('ZADD', KEYS[#KEYS], now, outbox_entry(ARGV[1], ARGV[i + 3]))
    claimed[#claimed + 1] = ARGV[i + 3]
  end
end
return claimed
