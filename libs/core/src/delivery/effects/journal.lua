--[[
  The undo journal of the effects script (effects.lua includes it). Redis never rolls a
  script's writes back, so the script does it itself: a listener's body calls Redis
  through `proxy`, which, before each write, notes what the write will change (the fields,
  members or value it touches, whether the key existed and its TTL). When the body fails
  midway (a wrong type, a field that is not a number, an error of its own),
  take_all_back() plays the notes backwards and the keyspace is as it was. A write command
  that cannot be taken back this way is refused before it runs.

  Entries, noted before the write (or, for pushes, after it succeeded):
    {'key', key, existed, pttl}   the first write to a key in this entry
    {'field', key, field, old}    a hash field (old: false when absent)
    {'member', key, member, was}  a set member (was: present or not)
    {'scored', key, member, old}  a sorted-set member's score (false when absent)
    {'value', key, old}           a string's whole value
    {'dump', key, dump}           a whole key (DEL, or SET over another type)
    {'pushed', key, side, n}      n elements pushed on the left or right
    {'trimmed', key, head, tail}  the elements LTRIM removed
  Field, member and value notes are taken only for keys that existed before the entry's
  first write to them: a key that did not exist is simply deleted again.

  What it defines for effects.lua: journal, existed, known and reshaped (the state, reset
  per entry but `known`, kept for the batch), remember_touched(), take_all_back(), proxy
  (with last_call, for an entry's last write: it needs no notes, see there).
  No KEYS nor ARGV of its own.
]]
local journal, existed = {}, {}
local function note(entry) journal[#journal + 1] = entry end

-- What the batch knows of a key's existence and TTL (PTTL: -2 no such key, -1 no TTL):
-- read once, and kept while the entries that succeed only add to the key. A write that
-- may delete the key or change its TTL makes the batch read it again.
local known, reshaped = {}, {}
-- The writes that may delete a key or change its TTL (and BITFIELD, see may_reshape).
local RESHAPES = {
  SET = true, SETEX = true, PSETEX = true, GETSET = true, DEL = true, UNLINK = true,
  EXPIRE = true, PEXPIRE = true, EXPIREAT = true, PEXPIREAT = true, PERSIST = true,
  SREM = true, ZREM = true, HDEL = true, LTRIM = true, LPUSHX = true, RPUSHX = true,
}

local function first_touch(key)
  if existed[key] == nil then
    local pttl = known[key] or redis.call('PTTL', key)
    existed[key] = pttl ~= -2
    note({'key', key, existed[key], pttl})
  end
  return existed[key]
end

local function may_reshape(name, args)
  if RESHAPES[name] then return true end
  if name ~= 'BITFIELD' then return false end
  for _, arg in ipairs(args) do
    local sub = string.upper(arg)
    if sub == 'SET' or sub == 'INCRBY' then return false end
  end
  return true
end

-- After an entry succeeded: a key it wrote exists now, with the TTL it had (-1 if it
-- created it), unless a write may have deleted it or changed its TTL.
local function remember_touched()
  for _, entry in ipairs(journal) do
    if entry[1] == 'key' then
      local key = entry[2]
      known[key] = (not reshaped[key]) and (entry[3] and entry[4] or -1) or nil
    end
  end
end

local function skip_options(args, options)
  local i = 1
  while args[i] and options[string.upper(args[i])] do i = i + 1 end
  return i
end
local ZADD_OPTIONS = {NX = true, XX = true, GT = true, LT = true, CH = true, INCR = true}

local function keep_value(key)
  if redis.call('TYPE', key).ok == 'string' then note({'value', key, redis.call('GET', key)})
  else note({'dump', key, redis.call('DUMP', key)}) end
end

-- What each write command is about to change, noted before it runs; a function returned
-- is called with the reply once the command succeeded.
local KEEP = {}
for _, c in ipairs({'HSET', 'HMSET', 'HINCRBY', 'HINCRBYFLOAT', 'HDEL'}) do
  KEEP[c] = function(key, args)
    local step = (c == 'HSET' or c == 'HMSET') and 2 or 1
    local last = (c == 'HDEL') and #args or ((c == 'HSET' or c == 'HMSET') and #args - 1 or 1)
    for i = 1, last, step do note({'field', key, args[i], redis.call('HGET', key, args[i])}) end
  end
end
for _, c in ipairs({'SADD', 'SREM'}) do
  KEEP[c] = function(key, args)
    for i = 1, #args do note({'member', key, args[i], redis.call('SISMEMBER', key, args[i]) == 1}) end
  end
end
-- One member added, or a field set if absent: the reply says whether it was there, so
-- nothing is read before (1: it was not, take it away again; 0: nothing changed).
KEEP.SADD = function(key, args)
  if #args ~= 1 then return KEEP.SREM(key, args) end
  return function(added) if added == 1 then note({'member', key, args[1], false}) end end
end
KEEP.HSETNX = function(key, args)
  return function(set) if set == 1 then note({'field', key, args[1], false}) end end
end
KEEP.ZADD = function(key, args)
  for i = skip_options(args, ZADD_OPTIONS) + 1, #args, 2 do
    note({'scored', key, args[i], redis.call('ZSCORE', key, args[i])})
  end
end
KEEP.ZINCRBY = function(key, args) note({'scored', key, args[2], redis.call('ZSCORE', key, args[2])}) end
KEEP.ZREM = function(key, args)
  for i = 1, #args do note({'scored', key, args[i], redis.call('ZSCORE', key, args[i])}) end
end
for _, c in ipairs({
  'SET', 'SETNX', 'SETEX', 'PSETEX', 'GETSET', 'APPEND', 'SETRANGE', 'SETBIT', 'BITFIELD',
  'INCR', 'DECR', 'INCRBY', 'DECRBY', 'INCRBYFLOAT', 'PFADD',
}) do
  KEEP[c] = function(key) keep_value(key) end
end
for _, c in ipairs({'LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX'}) do
  local side = string.sub(c, 1, 1)
  KEEP[c] = function(key, args) return function() note({'pushed', key, side, #args}) end end
end
KEEP.LTRIM = function(key, args)
  local len = redis.call('LLEN', key)
  local start, stop = tonumber(args[1]), tonumber(args[2])
  if start < 0 then start = math.max(0, len + start) end
  if stop < 0 then stop = len + stop end
  if stop >= len then stop = len - 1 end
  if start > stop or start >= len then
    note({'trimmed', key, redis.call('LRANGE', key, 0, -1), {}})
  else
    local head = start > 0 and redis.call('LRANGE', key, 0, start - 1) or {}
    local tail = stop < len - 1 and redis.call('LRANGE', key, stop + 1, -1) or {}
    note({'trimmed', key, head, tail})
  end
end
for _, c in ipairs({'DEL', 'UNLINK'}) do
  KEEP[c] = function(key) note({'dump', key, redis.call('DUMP', key)}) end
end
for _, c in ipairs({'EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT', 'PERSIST'}) do
  KEEP[c] = function() end
end

local function take_back(entry)
  local kind, key = entry[1], entry[2]
  if kind == 'key' then
    if not entry[3] then redis.call('DEL', key) return end
    local pttl = redis.call('PTTL', key)
    if entry[4] < 0 and pttl >= 0 then redis.call('PERSIST', key)
    elseif entry[4] >= 0 and pttl ~= entry[4] then redis.call('PEXPIRE', key, entry[4]) end
  elseif not existed[key] then
    return -- deleted again by its 'key' entry
  elseif kind == 'field' then
    if entry[4] then redis.call('HSET', key, entry[3], entry[4]) else redis.call('HDEL', key, entry[3]) end
  elseif kind == 'member' then
    if entry[4] then redis.call('SADD', key, entry[3]) else redis.call('SREM', key, entry[3]) end
  elseif kind == 'scored' then
    if entry[4] then redis.call('ZADD', key, entry[4], entry[3]) else redis.call('ZREM', key, entry[3]) end
  elseif kind == 'value' then
    redis.call('SET', key, entry[3])
  elseif kind == 'dump' then
    if entry[3] then redis.call('RESTORE', key, 0, entry[3], 'REPLACE') else redis.call('DEL', key) end
  elseif kind == 'pushed' then
    redis.call(entry[3] == 'L' and 'LPOP' or 'RPOP', key, entry[4])
  elseif kind == 'trimmed' then
    local head, tail = entry[3], entry[4]
    for i = #head, 1, -1 do redis.call('LPUSH', key, head[i]) end
    if #tail > 0 then redis.call('RPUSH', key, unpack(tail)) end
  end
end

local function take_all_back()
  for i = #journal, 1, -1 do take_back(journal[i]) end
end

-- Commands a listener's body may use that write nothing.
local READS = {
  GET = true, MGET = true, STRLEN = true, GETRANGE = true, GETBIT = true, BITCOUNT = true,
  BITPOS = true, BITFIELD_RO = true,
  HGET = true, HMGET = true, HGETALL = true, HEXISTS = true, HLEN = true, HKEYS = true,
  HVALS = true, HSTRLEN = true,
  SISMEMBER = true, SMISMEMBER = true, SCARD = true, SMEMBERS = true,
  ZSCORE = true, ZMSCORE = true, ZCARD = true, ZCOUNT = true, ZRANGE = true,
  ZRANGEBYSCORE = true, ZREVRANGE = true, ZRANK = true, ZREVRANK = true,
  LLEN = true, LRANGE = true, LINDEX = true, LPOS = true, EXISTS = true, TYPE = true,
  TTL = true, PTTL = true, PFCOUNT = true,
}

local function refuse(name)
  error('podium cannot take ' .. name .. ' back if a later write fails, so effects may not use it', 0)
end

local function guarded_call(command, key, ...)
  local name = string.upper(command)
  if READS[name] then return redis.call(command, key, ...) end
  local keep = KEEP[name]
  if not keep then refuse(name) end
  local args = {...}
  local after
  if first_touch(key) then after = keep(key, args) end
  if may_reshape(name, args) then reshaped[key] = true end
  if name == 'DEL' or name == 'UNLINK' then
    for i = 1, #args do
      if first_touch(args[i]) then keep(args[i], {}) end
      reshaped[args[i]] = true
    end
  end
  local reply = redis.call(command, key, ...)
  if after then after(reply) end
  return reply
end

-- The last write of an entry, when nothing runs after it (writes.lua's last write): failed,
-- it changed nothing (a command is atomic); done, nothing can fail after it. So it needs
-- no notes, and no read before it; only what the batch knows of the keys may change.
local function last_call(command, key, ...)
  local name = string.upper(command)
  if READS[name] then return redis.call(command, key, ...) end
  if not KEEP[name] then refuse(name) end
  local args = {...}
  if may_reshape(name, args) then
    known[key], reshaped[key] = nil, true
    if name == 'DEL' or name == 'UNLINK' then
      for i = 1, #args do known[args[i]], reshaped[args[i]] = nil, true end
    end
  end
  return redis.call(command, key, ...)
end

-- What a listener's body sees as "redis".
local proxy = {
  call = guarded_call,
  last_call = last_call,
  pcall = function(...)
    local ok, reply = pcall(guarded_call, ...)
    if ok then return reply end
    return type(reply) == 'table' and reply or {err = tostring(reply)}
  end,
  error_reply = redis.error_reply,
  status_reply = redis.status_reply,
  sha1hex = redis.sha1hex,
  log = redis.log,
  LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
  LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
}
