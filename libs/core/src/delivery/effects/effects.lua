--[[
  Applies listeners' effects: every (message, listener) entry of a batch behind its own
  applied marker (field <listener> of podium:applied:<message id>), and ALL OR NOTHING per
  entry. A listener's body runs with journal.lua's proxy as its `redis`: should it fail
  midway, its writes are taken back, the marker stays unset, and a retry applies the entry
  once. Redis runs a script atomically, and replicates it as one MULTI of its effects, so
  no client and no replica ever sees the writes that were taken back.

  KEYS     every key the batch touches, once (entries name them by index)
  ARGV[1]  the markers' TTL, seconds
  ARGV[2]  the entries, as JSON (one argument for the whole batch instead of thousands),
           each [marker key index, stats key index, listener, body index (0: the message
           is not for it), [its key indexes], [its args, as strings], the message record's
           key index (0: not in this script's slot, on a cluster), 1 when a duplicate is
           expected and not to be counted (a durable group's two paths), else 0]
  Returns, per entry: {0} already applied (a duplicate), {1, reply} applied now, {2}
  skipped now, {-1, error} failed and taken back, {-2, error} failed and NOT taken back
  (a bug), {-3, error} not applied: the message is not on this server.

  The last: the effects were computed from the message as the listeners process loaded it,
  and across a failover that load and this script can reach two servers (a demoted primary
  still answers reads from its old data; the connection then moves). A message that the
  failover lost must not be applied where it does not exist (seen: the endpoint test's
  messages recorded on the old primary after the promotion, applied on the new one).
]]
--@include "journal.lua"

-- The bodies, by index, each a function(KEYS, ARGV, redis): writes.lua's first, then each
-- script effect's as it first appears. They are known only at run time: effects-script.ts
-- puts them in place of the line below, and a new body makes a new script.
local bodies = {
--@bodies
}

-- Each message's markers, read once (HGETALL) and written once (one HSET) per batch.
local marks, marked = {}, {}
local function marks_of(marker)
  local known_marks = marks[marker]
  if not known_marks then
    known_marks = {}
    local flat = redis.call('HGETALL', marker)
    for i = 1, #flat, 2 do known_marks[flat[i]] = flat[i + 1] end
    marks[marker] = known_marks
    marked[marker] = {}
  end
  return known_marks
end
local function mark(marker, listener, value)
  marks[marker][listener] = value
  local fields = marked[marker]
  fields[#fields + 1] = listener
  fields[#fields + 1] = value
end

-- Whether a message's record is on this server, read once per message and batch.
local here = {}
local function record_here(key)
  if here[key] == nil then here[key] = redis.call('EXISTS', key) == 1 end
  return here[key]
end

local out, counts = {}, {}
for n, entry in ipairs(cjson.decode(ARGV[2])) do
  local marker, stats, listener, body = KEYS[entry[1]], KEYS[entry[2]], entry[3], entry[4]
  local keys = {}
  for i, index in ipairs(entry[5]) do keys[i] = KEYS[index] end
  local count = counts[stats]
  if not count then count = {applied = 0, skipped = 0, duplicates = 0}; counts[stats] = count end
  if marks_of(marker)[listener] then
    if entry[8] ~= 1 then count.duplicates = count.duplicates + 1 end
    out[n] = {0}
  elseif entry[7] ~= 0 and not record_here(KEYS[entry[7]]) then
    out[n] = {-3, 'message not found on this server (a failover lost it, or it was deleted): not applied'}
  elseif body == 0 then
    mark(marker, listener, '0')
    count.skipped = count.skipped + 1
    out[n] = {2}
  else
    journal, existed, reshaped = {}, {}, {}
    local ok, reply = pcall(bodies[body], keys, entry[6], proxy)
    if ok then
      mark(marker, listener, '1')
      remember_touched()
      count.applied = count.applied + 1
      out[n] = {1, reply}
    else
      local failure = type(reply) == 'table' and reply.err or tostring(reply)
      local undone, why = pcall(take_all_back)
      for key in pairs(existed) do known[key] = nil end
      out[n] = undone and {-1, failure} or {-2, failure .. '; taking it back failed: ' .. tostring(why)}
    end
  end
end
for marker, fields in pairs(marked) do
  if #fields > 0 then redis.call('HSET', marker, unpack(fields)) end
  redis.call('EXPIRE', marker, ARGV[1])
end
for stats, count in pairs(counts) do
  for field, value in pairs(count) do
    if value > 0 then redis.call('HINCRBY', stats, field, value) end
  end
end
return out
