--[[
  announce_order(id, event): announces an order on the channels orderChannels
  (announcement.ts) gives, in its order: PUBLISH purchase_orders <id>, then
  PUBLISH purchase_orders:<event> <id>. announcement.spec.ts checks the two agree.
]]
local function announce_order(id, event)
  redis.call('PUBLISH', 'purchase_orders', id)
  redis.call('PUBLISH', 'purchase_orders:' .. event, id)
end
