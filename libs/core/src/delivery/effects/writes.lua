--[[
  The body of plain writes (WriteEffects), run as body 1 of effects.lua, each write in
  turn through the journal's proxy (its `redis`).

  KEYS     write i's key is KEYS[i]
  ARGV     per write: its length (1 + its arguments), its command, its arguments
  Returns: the writes' replies
]]
local replies = {}
local a = 1
for i = 1, #KEYS do
  local n = tonumber(ARGV[a])
  -- The last write needs no undo notes: nothing runs after it (journal.lua's last_call).
  local call = i == #KEYS and redis.last_call or redis.call
  replies[i] = call(ARGV[a + 1], KEYS[i], unpack(ARGV, a + 2, a + n))
  a = a + n + 1
end
return replies
