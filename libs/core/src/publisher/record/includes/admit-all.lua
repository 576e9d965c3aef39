--[[
  admit(record, keys, args): the admission of a message type without one (see Admission in
  message-type.ts): every message is recorded.
]]
local function admit(record, keys, args)
  return nil
end
