--[[
  Records a message in one atomic step, so that it is all there or not at all: replay a
  known Idempotency-Key, let the type's admission decide (admit(), run ahead of this file:
  it may refuse, change the fields, and write what it counts), store the record hash, count
  the message as announced for every known listener whose subscription hears it (so that
  announced minus applied shows what a listener missed), mark it queued for the durable
  groups that will get it and enter those jobs in the outbox (a relay queues them should
  this process die before they exist), keep the trace context it is published in (when it is
  traced) beside it, and announce it on its channels, the bare id as payload.

  KEYS[1]     the record hash (<type's prefix><id>)
  KEYS[2]     the idempotency hash (podium:idempotency:<key>); without a key the record
              hash again, so that a Redis user limited to podium's key patterns may run it
  KEYS[3]     the outbox (podium:outbox)
  KEYS[4]     the message's markers (podium:applied:<id>)
  KEYS[5]     its trace context (podium:trace:<id>); the record hash again when not traced
  KEYS[6..]   the admission's keys (ARGV[5] of them), then the stats hashes
              (podium:stats:<listener>) of the listeners that hear it
  ARGV[1]     the request's fingerprint ('' without an Idempotency-Key)
  ARGV[2]     the idempotency hash's TTL, seconds
  ARGV[3]     the id
  ARGV[4]     the markers' TTL, seconds
  ARGV[5]     how many admission keys
  ARGV[6]     the trace context's TTL, seconds
  then        n, and the record's n field names and values, alternately
  then        n, and the admission's n args
  then        n, and the n channels it is announced on
  then        n, and the trace context's n field names and values, alternately (0: not traced)
  then        per durable group that hears it: its name, then its marker field
  Returns: {'created', field, value, ...} (the record as stored)
           | {'replay', id, fingerprint, groups still to queue...}
           | {'refused', what admit() returned...}
]]
--@include "../../queues/includes/now-ms.lua"
--@include "../../queues/includes/outbox-entry.lua"

local record_key, idempotency_key, outbox, markers, trace_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local fingerprint, id = ARGV[1], ARGV[3]

-- ARGV after the fixed six: counted lists.
local at = 7
local function list()
  local n, items = tonumber(ARGV[at]), {}
  for i = 1, n do items[i] = ARGV[at + i] end
  at = at + n + 1
  return items
end
local flat_fields, admission_args, channels, trace_context = list(), list(), list(), list()
local groups_from = at
local admission_keys, stats_from = {}, 6 + tonumber(ARGV[5])
for i = 6, stats_from - 1 do admission_keys[#admission_keys + 1] = KEYS[i] end

local idempotent = fingerprint ~= ''
if idempotent then
  -- 'order_id': the field's name before podium knew other messages (kept 24 h).
  local known = redis.call('HMGET', idempotency_key, 'id', 'fingerprint', 'order_id')
  known[1] = known[1] or known[3]
  if known[1] then
    local reply = {'replay', known[1], known[2]}
    for i = groups_from, #ARGV, 2 do
      if redis.call('ZSCORE', outbox, outbox_entry(ARGV[i], known[1])) then reply[#reply + 1] = ARGV[i] end
    end
    return reply
  end
end

local names, record = {}, {}
for i = 1, #flat_fields, 2 do
  names[#names + 1] = flat_fields[i]
  record[flat_fields[i]] = flat_fields[i + 1]
end
local refused = admit(record, admission_keys, admission_args)
if refused then
  table.insert(refused, 1, 'refused')
  return refused
end

local stored = {}
for _, name in ipairs(names) do
  stored[#stored + 1] = name
  stored[#stored + 1] = record[name]
end
redis.call('HSET', record_key, unpack(stored))
for i = stats_from, #KEYS do redis.call('HINCRBY', KEYS[i], 'announced', 1) end
if idempotent then
  redis.call('HSET', idempotency_key, 'id', id, 'fingerprint', fingerprint)
  redis.call('EXPIRE', idempotency_key, ARGV[2])
end
if #ARGV >= groups_from then
  local now = now_ms()
  for i = groups_from, #ARGV, 2 do
    redis.call('HSET', markers, ARGV[i + 1], '1')
    redis.call('ZADD', outbox, now, outbox_entry(ARGV[i], id))
  end
  redis.call('EXPIRE', markers, ARGV[4])
end
if #trace_context > 0 then
  redis.call('HSET', trace_key, unpack(trace_context))
  redis.call('EXPIRE', trace_key, ARGV[6])
end
for _, channel in ipairs(channels) do redis.call('PUBLISH', channel, id) end
table.insert(stored, 1, 'created')
return stored
