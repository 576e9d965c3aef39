--[[
  admit(record, keys, args): a scan at a gate, admitted while the gate has places left.

  keys[1]  the gate's hash (gates:<name>): open (places), scanned (so far)
  Returns: nil (admitted, counted in scanned) | {'full'}
]]
local function admit(record, keys, args)
  local gate = redis.call('HMGET', keys[1], 'open', 'scanned')
  if tonumber(gate[2] or '0') >= tonumber(gate[1] or '0') then return {'full'} end
  redis.call('HINCRBY', keys[1], 'scanned', 1)
  return nil
end
