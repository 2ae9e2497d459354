-- The slot state of one mailbox, shared by every slot script. KEYS order is fixed by stateKeys()
-- in keys.ts; ARGV[1..5] are the same for every slot script (slotContextArgs in scripts.ts):
--   ARGV[1] mailbox   ARGV[2] events channel   ARGV[3] default limit (no config yet)
--   ARGV[4] epoch grace ms   ARGV[5] the caller's claim of the server's run id ('' for none)
-- Config, epoch, counters, the 432 cut, the waiter count and every lease live in one hash, so a
-- grant or a release reads it with one HMGET (load_state) and writes it with one HSET (save).
--- @include "time"
local K_STATE, K_WAITERS, K_WDEADLINE, K_WINFO, K_STATS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local MAILBOX, EVENTS = ARGV[1], ARGV[2]
local DEFAULT_LIMIT, GRACE_MS, RUN_CLAIM = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local FOREVER = 315360000000 -- ten years of ms: "no timeout"

local FIELDS = {
  'limit', 'paused', 'pauseReason', 'run', 'epoch', 'grace', 'fence', 'ticket', 'waiting',
  'fbLimit', 'fbUntil', 'fbEvery', 'leases', 'grants', 'releases',
}

local function load_state()
  local v = redis.call('HMGET', K_STATE, unpack(FIELDS))
  local s = {
    limit = tonumber(v[1]) or DEFAULT_LIMIT, paused = v[2] == '1', reason = v[3] or '',
    run = v[4] or nil, epoch = v[5] or nil, grace = tonumber(v[6]),
    fence = tonumber(v[7]) or 0, ticket = tonumber(v[8]) or 0, waiting = tonumber(v[9]) or 0,
    fb_limit = tonumber(v[10]), fb_until = tonumber(v[11]), fb_every = tonumber(v[12]),
    grants = tonumber(v[14]) or 0, releases = tonumber(v[15]) or 0,
    dirty = {},
  }
  -- cjson encodes an empty table as {}, which decodes back to an empty table: fine for ipairs.
  s.leases = v[13] and cjson.decode(v[13]) or {}
  return s
end

-- Marks hash fields to be written by save(); values are taken from `s` at save time.
local function touch(s, ...)
  for _, field in ipairs({ ... }) do s.dirty[field] = true end
end

local function save(s)
  local out = {}
  for field in pairs(s.dirty) do
    out[#out + 1] = field
    if field == 'leases' then out[#out + 1] = cjson.encode(s.leases)
    else out[#out + 1] = s[field] end
  end
  if #out > 0 then redis.call('HSET', K_STATE, unpack(out)) end
end
