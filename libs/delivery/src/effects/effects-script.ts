/*
 * The Lua script that applies listeners' effects: every (order, listener) entry of a batch
 * behind its own applied marker, and ALL OR NOTHING per entry. Redis never rolls a
 * script's writes back, so the script does it itself: a listener's body calls Redis
 * through a proxy that, before each write, notes what the write will change (the fields,
 * members or value it touches, whether the key existed and its TTL). When the body fails
 * midway (a wrong type, a field that is not a number, an error of its own), the notes are
 * played backwards and the keyspace is as it was; the marker stays unset, so a retry
 * applies the entry once. A write command that cannot be taken back this way is refused
 * before it runs. Redis runs a script atomically, and replicates it as one MULTI of its
 * effects, so no client and no replica ever sees the writes that were taken back.
 */

/** Commands a listener's body may use that write nothing. */
export const READ_COMMANDS = [
  'GET', 'MGET', 'STRLEN', 'GETRANGE', 'GETBIT', 'BITCOUNT', 'BITPOS', 'BITFIELD_RO',
  'HGET', 'HMGET', 'HGETALL', 'HEXISTS', 'HLEN', 'HKEYS', 'HVALS', 'HSTRLEN',
  'SISMEMBER', 'SMISMEMBER', 'SCARD', 'SMEMBERS',
  'ZSCORE', 'ZMSCORE', 'ZCARD', 'ZCOUNT', 'ZRANGE', 'ZRANGEBYSCORE', 'ZREVRANGE', 'ZRANK', 'ZREVRANK',
  'LLEN', 'LRANGE', 'LINDEX', 'LPOS', 'EXISTS', 'TYPE', 'TTL', 'PTTL', 'PFCOUNT',
] as const; // prettier-ignore

/** Write commands podium can take back, by what it notes before they run. */
const WRITES = {
  hashFields: ['HSET', 'HMSET', 'HSETNX', 'HINCRBY', 'HINCRBYFLOAT', 'HDEL'],
  setMembers: ['SADD', 'SREM'],
  sortedSetMembers: ['ZADD', 'ZINCRBY', 'ZREM'],
  wholeValue: [
    'SET', 'SETNX', 'SETEX', 'PSETEX', 'GETSET', 'APPEND', 'SETRANGE', 'SETBIT', 'BITFIELD',
    'INCR', 'DECR', 'INCRBY', 'DECRBY', 'INCRBYFLOAT', 'PFADD',
  ],
  listPushes: ['LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX'],
  listTrims: ['LTRIM'],
  keyDeletes: ['DEL', 'UNLINK'],
  expiries: ['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT', 'PERSIST'],
} as const; // prettier-ignore

/** Every write command a listener's effects may use. */
export const WRITE_COMMANDS: readonly string[] = Object.values(WRITES).flat();

const luaSet = (names: readonly string[]): string =>
  `{${names.map((n) => `${n} = true`).join(', ')}}`;

/**
 * The body of plain writes (WriteEffects): KEYS[i] is write i's key; ARGV holds, per write,
 * its length, its command and its arguments.
 */
export const WRITES_BODY = `
local replies = {}
local a = 1
for i = 1, #KEYS do
  local n = tonumber(ARGV[a])
  replies[i] = redis.call(ARGV[a + 1], KEYS[i], unpack(ARGV, a + 2, a + n))
  a = a + n + 1
end
return replies`;

/*
 * The journal. Entries, noted before the write (or, for pushes, after it succeeded):
 *   {'key', key, existed, pttl}   the first write to a key in this entry
 *   {'field', key, field, old}    a hash field (old: false when absent)
 *   {'member', key, member, was}  a set member (was: present or not)
 *   {'scored', key, member, old}  a sorted-set member's score (false when absent)
 *   {'value', key, old}           a string's whole value
 *   {'dump', key, dump}           a whole key (DEL, or SET over another type)
 *   {'pushed', key, side, n}      n elements pushed on the left or right
 *   {'trimmed', key, head, tail}  the elements LTRIM removed
 * Field, member and value notes are taken only for keys that existed before the entry's
 * first write to them: a key that did not exist is simply deleted again.
 */
const JOURNAL = `
local journal, existed = {}, {}
local function note(entry) journal[#journal + 1] = entry end

-- What the batch knows of a key's existence and TTL (PTTL: -2 no such key, -1 no TTL):
-- read once, and kept while the entries that succeed only add to the key. A write that
-- may delete the key or change its TTL makes the batch read it again.
local known, reshaped = {}, {}
local RESHAPES = ${luaSet(['SET', 'SETEX', 'PSETEX', 'GETSET', ...WRITES.keyDeletes, ...WRITES.expiries, 'SREM', 'ZREM', 'HDEL', 'LTRIM', 'LPUSHX', 'RPUSHX'])}

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
for _, c in ipairs({${WRITES.hashFields.map((c) => `'${c}'`).join(', ')}}) do
  KEEP[c] = function(key, args)
    local step = (c == 'HSET' or c == 'HMSET') and 2 or 1
    local last = (c == 'HDEL') and #args or ((c == 'HSET' or c == 'HMSET') and #args - 1 or 1)
    for i = 1, last, step do note({'field', key, args[i], redis.call('HGET', key, args[i])}) end
  end
end
for _, c in ipairs({${WRITES.setMembers.map((c) => `'${c}'`).join(', ')}}) do
  KEEP[c] = function(key, args)
    for i = 1, #args do note({'member', key, args[i], redis.call('SISMEMBER', key, args[i]) == 1}) end
  end
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
for _, c in ipairs({${WRITES.wholeValue.map((c) => `'${c}'`).join(', ')}}) do
  KEEP[c] = function(key) keep_value(key) end
end
for _, c in ipairs({${WRITES.listPushes.map((c) => `'${c}'`).join(', ')}}) do
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
for _, c in ipairs({${WRITES.keyDeletes.map((c) => `'${c}'`).join(', ')}}) do
  KEEP[c] = function(key) note({'dump', key, redis.call('DUMP', key)}) end
end
for _, c in ipairs({${WRITES.expiries.map((c) => `'${c}'`).join(', ')}}) do
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

local READS = ${luaSet(READ_COMMANDS)}

local function guarded_call(command, key, ...)
  local name = string.upper(command)
  if READS[name] then return redis.call(command, key, ...) end
  local keep = KEEP[name]
  if not keep then
    error('podium cannot take ' .. name .. ' back if a later write fails, so effects may not use it', 0)
  end
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

-- What a listener's body sees as "redis".
local proxy = {
  call = guarded_call,
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
}`;

/*
 * KEYS: every key the batch touches, once (entries name them by index).
 * ARGV[1]: the markers' TTL in seconds. ARGV[2]: the entries, as JSON (one argument for
 * the whole batch instead of thousands), each
 *   [marker key index, stats key index, listener, body index (0: the order is not for it),
 *    [its key indexes], [its args, as strings], the order hash's key index (0: not in
 *    this script's slot, on a cluster)].
 * Reply, per entry: {0} already applied (a duplicate), {1, reply} applied now, {2} skipped
 * now, {-1, error} failed and taken back, {-2, error} failed and NOT taken back (a bug),
 * {-3, error} not applied: the order is not on this server.
 *
 * The last: the effects were computed from the order as the listeners process loaded it,
 * and across a failover that load and this script can reach two servers (a demoted primary
 * still answers reads from its old data; the connection then moves). An order that the
 * failover lost must not be applied where it does not exist (seen: the endpoint test's
 * orders recorded on the old primary after the promotion, applied on the new one).
 */
const MAIN = `
-- Each order's markers, read once (HGETALL) and written once (one HSET) per batch.
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

-- Whether an order's hash is on this server, read once per order and batch.
local here = {}
local function order_here(key)
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
    count.duplicates = count.duplicates + 1
    out[n] = {0}
  elseif entry[7] ~= 0 and not order_here(KEYS[entry[7]]) then
    out[n] = {-3, 'order not found on this server (a failover lost it, or it was deleted): not applied'}
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
return out`;

/** The whole script for a list of bodies (WRITES_BODY first, then the script effects in use). */
export function effectsScript(bodies: readonly string[]): string {
  const functions = bodies
    .map((body) => `function(KEYS, ARGV, redis)\n${body}\nend`)
    .join(',\n');
  return `${JOURNAL}\nlocal bodies = {\n${functions}\n}\n${MAIN}`;
}
