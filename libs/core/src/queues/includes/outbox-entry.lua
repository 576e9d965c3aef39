--[[
  outbox_entry(group, order_id): the outbox entry of an order that must be in a group's
  queue, '<group> <order id>', as outboxEntry (order-enqueuer.ts) builds it and
  parseOutboxEntry reads it.
]]
local function outbox_entry(group, order_id)
  return group .. ' ' .. order_id
end
