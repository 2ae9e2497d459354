--[[ Record one step of a message's life in the mailbox's trail, and keep the trail bounded.
  Input:  KEYS[1] trail hash (entry id -> record JSON)
          KEYS[2] trail order zset (entry id scored by last update, Redis ms)
          KEYS[3] trail index zset (score 0, members "<term>\0<entry id>", searched by lex range)
          ARGV[1] entry id   ARGV[2] patch JSON (top-level fields replaced)
          ARGV[3] attempt JSON to append, or ''   ARGV[4] max age ms   ARGV[5] max entries
          ARGV[6] max attempts kept per entry
  Output: trimmed {dropped}
  dropped: the number of entries the bounds removed.
  Search terms (lower-cased Message-ID and recipients, as stored) are derived from the record,
  so trimming removes exactly what was indexed. ]]
--- @include "time"
local now = now_ms()
local id = ARGV[1]
local existing = redis.call('HGET', KEYS[1], id)
local record = existing and cjson.decode(existing) or {}
local function terms(r)
  local out = {}
  if type(r.messageId) == 'string' then out[#out + 1] = string.lower(r.messageId) end
  if type(r.recipients) == 'table' then
    for _, to in ipairs(r.recipients) do if type(to) == 'string' then out[#out + 1] = string.lower(to) end end
  end
  return out
end
local before = terms(record)
for k, v in pairs(cjson.decode(ARGV[2])) do record[k] = v end
if ARGV[3] ~= '' then
  local attempts = type(record.attempts) == 'table' and record.attempts or {}
  attempts[#attempts + 1] = cjson.decode(ARGV[3])
  local keep = tonumber(ARGV[6])
  while #attempts > keep do table.remove(attempts, 1) end
  record.attempts = attempts
end
record.updatedMs = now
if not record.acceptedMs then record.acceptedMs = now end
-- Most steps keep the same terms: touch the index only for those that changed.
local after, had, has = terms(record), {}, {}
for _, t in ipairs(before) do had[t] = true end
for _, t in ipairs(after) do has[t] = true end
for _, t in ipairs(before) do if not has[t] then redis.call('ZREM', KEYS[3], t .. '\0' .. id) end end
for _, t in ipairs(after) do if not had[t] then redis.call('ZADD', KEYS[3], 0, t .. '\0' .. id) end end
redis.call('HSET', KEYS[1], id, cjson.encode(record))
redis.call('ZADD', KEYS[2], now, id)

local function drop(ids)
  for _, old in ipairs(ids) do
    local json = redis.call('HGET', KEYS[1], old)
    if json then
      for _, t in ipairs(terms(cjson.decode(json))) do redis.call('ZREM', KEYS[3], t .. '\0' .. old) end
      redis.call('HDEL', KEYS[1], old)
    end
    redis.call('ZREM', KEYS[2], old)
  end
  return #ids
end
-- Bounded work per call: a backlog is worked off over the next calls.
local dropped = drop(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[4]), 'LIMIT', 0, 20))
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then dropped = dropped + drop(redis.call('ZRANGE', KEYS[2], 0, math.min(excess, 20) - 1)) end
return { dropped }
