--[[ Read-only view of a mailbox for the API and dashboard, computed with Redis TIME.
  Input:  KEYS[1..5] the state keys   KEYS[6] rate   KEYS[7] recipient buckets   KEYS[8] recipient counts
          ARGV[1] default limit   ARGV[2] recipient bucket ms   ARGV[3] recipient window ms
  Output: snapshot {json}
  json: {now, configured, config, effectiveLimit, feedback?, graceUntil, leases, waiters, tat,
  used24h, counters}; counters are the stats hash plus the grants and releases the state hash
  counts. ]]
--- @include "time"
--- @include "feedback"
--- @include "config"
local now = now_ms()
local state = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do state[flat[i]] = flat[i + 1] end
local config = {}
for _, field in ipairs(CONFIG_FIELDS) do config[field] = state[field] end
local configured = next(config) ~= nil
local limit = tonumber(state.limit or ARGV[1])
local effective, cut, cut_until = feedback_limit(tonumber(state.fbLimit), tonumber(state.fbUntil), tonumber(state.fbEvery), limit, now)
local leases = {}
for _, l in ipairs(state.leases and cjson.decode(state.leases) or {}) do
  if l.expiresAt > now then table.insert(leases, l) end
end
local waiters = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local deadline = tonumber(redis.call('ZSCORE', KEYS[3], id) or '0')
  local raw = redis.call('HGET', KEYS[4], id)
  if raw and deadline > now then
    local w = cjson.decode(raw)
    w.deadline = deadline
    table.insert(waiters, w)
  end
end
local used = 0
local bucket_ms, window = tonumber(ARGV[2]), tonumber(ARGV[3])
for _, b in ipairs(redis.call('ZRANGEBYSCORE', KEYS[7], '(' .. (now - window - bucket_ms), '+inf')) do
  used = used + tonumber(redis.call('HGET', KEYS[8], b) or '0')
end
local counters = {}
flat = redis.call('HGETALL', KEYS[5])
for i = 1, #flat, 2 do counters[flat[i]] = tonumber(flat[i + 1]) end
for _, field in ipairs({ 'grants', 'releases' }) do
  if state[field] then counters[field] = tonumber(state[field]) end
end
local out = {
  now = now, configured = configured, config = config, effectiveLimit = effective,
  graceUntil = tonumber(state.grace or '0'),
  leases = leases, waiters = waiters, tat = tonumber(redis.call('GET', KEYS[6]) or '0'),
  used24h = used, counters = counters,
}
if cut then out.feedback = { limit = effective, ['until'] = cut_until } end
return { cjson.encode(out) }
