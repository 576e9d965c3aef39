--[[
  Records a purchase in one atomic step, so that it is all there or not at all: replay a
  known Idempotency-Key, check the event and its capacity, compute the cost from the
  event's price (unless given), store the order hash, count the tickets sold, count the
  order as announced for every known listener whose subscription hears it (so that
  announced minus applied shows what a listener missed), mark it queued for the durable
  groups that will get it and enter those jobs in the outbox (a relay queues them should
  this process die before they exist), and announce it on both channels.

  KEYS[1]     the event hash (events:<name>)
  KEYS[2]     the order hash (purchase_order_details:<order id>)
  KEYS[3]     the idempotency hash (podium:idempotency:<key>); without a key the order
              hash again, so that a Redis user limited to podium's key patterns may run it
  KEYS[4]     the outbox (podium:outbox)
  KEYS[5]     the order's markers (podium:applied:<order id>)
  KEYS[6..]   the stats hashes (podium:stats:<listener>) of the listeners that hear it
  ARGV[1]     qty
  ARGV[2]     the request's fingerprint ('' without an Idempotency-Key)
  ARGV[3]     the idempotency hash's TTL, seconds
  ARGV[4]     the order id
  ARGV[5]     the cost ('' to compute qty x price)
  ARGV[6]     who
  ARGV[7]     the event
  ARGV[8]     ts
  ARGV[9]     the markers' TTL, seconds
  ARGV[10..]  per durable group that hears it: its name, then its marker field
  Returns: {'created', cost} | {'replay', order id, fingerprint, groups still to queue...}
           | {'sold_out', tickets left} | {'no_event'}
]]
--@include "../../queues/includes/now-ms.lua"
--@include "../../queues/includes/outbox-entry.lua"
--@include "includes/announce-order.lua"

local idempotent = ARGV[2] ~= ''
if idempotent then
  local known = redis.call('HMGET', KEYS[3], 'order_id', 'fingerprint')
  if known[1] then
    local reply = {'replay', known[1], known[2]}
    for i = 10, #ARGV, 2 do
      if redis.call('ZSCORE', KEYS[4], outbox_entry(ARGV[i], known[1])) then reply[#reply + 1] = ARGV[i] end
    end
    return reply
  end
end
local qty = tonumber(ARGV[1])
local event = redis.call('HMGET', KEYS[1], 'price', 'capacity', 'sold')
local cost = ARGV[5]
if cost == '' then
  if not event[1] then return {'no_event'} end
  local cents = math.floor(tonumber(event[1]) * 100 + 0.5) * qty
  local whole, rest = math.floor(cents / 100), cents % 100
  if rest == 0 then cost = string.format('%d', whole)
  elseif rest % 10 == 0 then cost = string.format('%d.%d', whole, rest / 10)
  else cost = string.format('%d.%02d', whole, rest) end
end
local capacity, sold = tonumber(event[2]), tonumber(event[3] or '0')
if capacity and sold + qty > capacity then return {'sold_out', tostring(capacity - sold)} end
redis.call('HSET', KEYS[2], 'order_id', ARGV[4], 'who', ARGV[6], 'qty', ARGV[1], 'cost', cost, 'event', ARGV[7], 'ts', ARGV[8])
redis.call('HINCRBY', KEYS[1], 'sold', qty)
for i = 6, #KEYS do redis.call('HINCRBY', KEYS[i], 'announced', 1) end
if idempotent then
  redis.call('HSET', KEYS[3], 'order_id', ARGV[4], 'fingerprint', ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
if #ARGV >= 10 then
  local now = now_ms()
  for i = 10, #ARGV, 2 do
    redis.call('HSET', KEYS[5], ARGV[i + 1], '1')
    redis.call('ZADD', KEYS[4], now, outbox_entry(ARGV[i], ARGV[4]))
  end
  redis.call('EXPIRE', KEYS[5], ARGV[9])
end
announce_order(ARGV[4], ARGV[7])
return {'created', cost}
