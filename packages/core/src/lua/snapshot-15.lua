--[[ Read-only view of a mailbox for the API and dashboard, computed with Redis TIME.
  Input:  KEYS[1..12] the state keys   KEYS[13] rate   KEYS[14] recipient buckets   KEYS[15] recipient counts
          ARGV[1] default limit   ARGV[2] recipient bucket ms   ARGV[3] recipient window ms
  Output: JSON {now, configured, config, effectiveLimit, feedback?, graceUntil, leases, waiters, tat, used24h, counters} ]]
--- @include "time"
--- @include "feedback"
local now = now_ms()
local config = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do config[flat[i]] = flat[i + 1] end
local limit = tonumber(config.limit or ARGV[1])
local effective, cut, cut_until = feedback_limit(KEYS[11], limit, now)
local leases = {}
for _, raw in ipairs(redis.call('HVALS', KEYS[2])) do
  local l = cjson.decode(raw)
  if l.expiresAt > now then table.insert(leases, l) end
end
local waiters = {}
local ids = redis.call('ZRANGE', KEYS[5], 0, -1)
for _, id in ipairs(ids) do
  local deadline = tonumber(redis.call('ZSCORE', KEYS[6], id) or '0')
  local raw = redis.call('HGET', KEYS[7], id)
  if raw and deadline > now then
    local w = cjson.decode(raw)
    w.deadline = deadline
    table.insert(waiters, w)
  end
end
local used = 0
local bucket_ms, window = tonumber(ARGV[2]), tonumber(ARGV[3])
for _, b in ipairs(redis.call('ZRANGEBYSCORE', KEYS[14], '(' .. (now - window - bucket_ms), '+inf')) do
  used = used + tonumber(redis.call('HGET', KEYS[15], b) or '0')
end
local counters = {}
flat = redis.call('HGETALL', KEYS[12])
for i = 1, #flat, 2 do counters[flat[i]] = tonumber(flat[i + 1]) end
local out = {
  now = now, configured = #redis.call('HKEYS', KEYS[1]) > 0, config = config, effectiveLimit = effective,
  graceUntil = tonumber(redis.call('HGET', KEYS[10], 'grace') or '0'),
  leases = leases, waiters = waiters, tat = tonumber(redis.call('GET', KEYS[13]) or '0'),
  used24h = used, counters = counters,
}
if cut then out.feedback = { limit = effective, ['until'] = cut_until } end
return cjson.encode(out)
