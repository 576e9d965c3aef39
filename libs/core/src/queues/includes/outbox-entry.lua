--[[
  outbox_entry(group, id): the outbox entry of a message that must be in a group's
  queue, '<group> <message id>', as outboxEntry (message-enqueuer.ts) builds it and
  parseOutboxEntry reads it.
]]
local function outbox_entry(group, id)
  return group .. ' ' .. id
end
