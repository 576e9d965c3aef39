--[[
  admit(record, keys, args): the admission of an Olympics purchase, run by podium's record
  script before it stores the order (see Admission in @podium/core). The event must exist
  unless the order's cost is given; its cost, when empty, is the event's price times qty,
  computed here in cents; no more tickets than its capacity are sold. Admitted, the
  tickets are counted sold.

  record     the order's fields (order_id, who, qty, cost, event, ts); cost may be ''
  keys[1]    the event hash (events:<name>): price, capacity, sold
  Returns: nil (admitted, record.cost set) | {'no_event'} | {'sold_out', tickets left}
]]
local function admit(record, keys, args)
  local qty = tonumber(record.qty)
  local event = redis.call('HMGET', keys[1], 'price', 'capacity', 'sold')
  if record.cost == '' then
    if not event[1] then return {'no_event'} end
    local cents = math.floor(tonumber(event[1]) * 100 + 0.5) * qty
    local whole, rest = math.floor(cents / 100), cents % 100
    if rest == 0 then record.cost = string.format('%d', whole)
    elseif rest % 10 == 0 then record.cost = string.format('%d.%d', whole, rest / 10)
    else record.cost = string.format('%d.%02d', whole, rest) end
  end
  local capacity, sold = tonumber(event[2]), tonumber(event[3] or '0')
  if capacity and sold + qty > capacity then return {'sold_out', tostring(capacity - sold)} end
  redis.call('HINCRBY', keys[1], 'sold', qty)
  return nil
end
