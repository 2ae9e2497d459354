--[[ Record steps of messages' lives in the mailbox's trail, and keep the trail bounded.
  Input:  KEYS[1] trail hash (entry id -> record JSON)
          KEYS[2] trail order zset (entry id scored by last update, Redis ms)
          KEYS[3] trail index zset (score 0, members "<term>\0<entry id>", searched by lex range)
          ARGV[1] max age ms   ARGV[2] max entries   ARGV[3] max attempts kept per entry
          ARGV[4..] one group per step, in order: entry id, patch JSON (top-level fields
          replaced), attempt JSON to append or ''
  Output: trimmed {dropped}
  dropped: the number of entries the bounds removed. Steps of one entry apply in the order given;
  the records are read with one HMGET and written with one HSET, whatever the number of steps.
  Search terms (lower-cased Message-ID and recipients, as stored) are derived from the record,
  so trimming removes exactly what was indexed. ]]
--- @include "time"
local now = now_ms()
local max_age, max_entries, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local function terms(r)
  local out = {}
  if type(r.messageId) == 'string' then out[#out + 1] = string.lower(r.messageId) end
  if type(r.recipients) == 'table' then
    for _, to in ipairs(r.recipients) do if type(to) == 'string' then out[#out + 1] = string.lower(to) end end
  end
  return out
end

local ids, records, before = {}, {}, {}
for i = 4, #ARGV, 3 do
  if not records[ARGV[i]] then
    ids[#ids + 1] = ARGV[i]
    records[ARGV[i]] = true
  end
end
for i, json in ipairs(redis.call('HMGET', KEYS[1], unpack(ids))) do
  local record = json and cjson.decode(json) or {}
  records[ids[i]], before[ids[i]] = record, terms(record)
end
for i = 4, #ARGV, 3 do
  local record = records[ARGV[i]]
  for k, v in pairs(cjson.decode(ARGV[i + 1])) do record[k] = v end
  if ARGV[i + 2] ~= '' then
    local attempts = type(record.attempts) == 'table' and record.attempts or {}
    attempts[#attempts + 1] = cjson.decode(ARGV[i + 2])
    while #attempts > keep do table.remove(attempts, 1) end
    record.attempts = attempts
  end
end

local stored, order, added, removed = {}, {}, {}, {}
for _, id in ipairs(ids) do
  local record = records[id]
  record.updatedMs = now
  if not record.acceptedMs then record.acceptedMs = now end
  -- Most steps keep the same terms: touch the index only for those that changed.
  local after, had, has = terms(record), {}, {}
  for _, t in ipairs(before[id]) do had[t] = true end
  for _, t in ipairs(after) do has[t] = true end
  for _, t in ipairs(before[id]) do if not has[t] then removed[#removed + 1] = t .. '\0' .. id end end
  for _, t in ipairs(after) do
    if not had[t] then
      added[#added + 1] = 0
      added[#added + 1] = t .. '\0' .. id
    end
  end
  stored[#stored + 1] = id
  stored[#stored + 1] = cjson.encode(record)
  order[#order + 1] = now
  order[#order + 1] = id
end
if #removed > 0 then redis.call('ZREM', KEYS[3], unpack(removed)) end
if #added > 0 then redis.call('ZADD', KEYS[3], unpack(added)) end
redis.call('HSET', KEYS[1], unpack(stored))
redis.call('ZADD', KEYS[2], unpack(order))

-- Bounded work per call (a little more than it adds): a backlog is worked off over the next calls.
local bound = 20 + #ids
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - max_age, 'LIMIT', 0, bound)
local excess = redis.call('ZCARD', KEYS[2]) - #old - max_entries
if excess > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], #old, #old + math.min(excess, bound) - 1)) do old[#old + 1] = id end
end
if #old > 0 then
  removed = {}
  for i, json in ipairs(redis.call('HMGET', KEYS[1], unpack(old))) do
    if json then
      for _, t in ipairs(terms(cjson.decode(json))) do removed[#removed + 1] = t .. '\0' .. old[i] end
    end
  end
  if #removed > 0 then redis.call('ZREM', KEYS[3], unpack(removed)) end
  redis.call('HDEL', KEYS[1], unpack(old))
  redis.call('ZREM', KEYS[2], unpack(old))
end
return { #old }
