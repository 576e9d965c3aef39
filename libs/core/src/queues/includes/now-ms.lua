--[[
  now_ms(): Redis's clock in ms. Every outbox age is measured on the one clock that wrote
  it, never on a process's.
]]
local function now_ms()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
