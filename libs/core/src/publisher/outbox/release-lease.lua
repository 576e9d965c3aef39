--[[
  Releases the relays' lease on the outbox, only if this relay still holds it.

  KEYS[1]  the lease (podium:outbox:lease)
  ARGV[1]  this relay's name, the lease's value while it holds it
  Returns: 1 released, 0 another relay holds it (or no one)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
