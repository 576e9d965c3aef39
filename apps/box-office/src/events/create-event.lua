--[[
  Creates an event's hash only if it does not exist yet, in one step.

  KEYS[1]  the event hash (events:<name>)
  ARGV     its fields and values, in pairs (name, price, sold, and capacity if any)
  Returns: 1 created, 0 it existed already (nothing written)
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
