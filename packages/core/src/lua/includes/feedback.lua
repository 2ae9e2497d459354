-- 432 feedback: the effective limit while a cut is active (see report432-3.lua).
-- A cut holds `limit` until `until`, then rises by one at `until` and every `raiseEveryMs` after.
local function feedback_limit(feedback_key, limit, now)
  local f = redis.call('HMGET', feedback_key, 'limit', 'until', 'raiseEveryMs')
  if not f[1] then return limit, nil, nil end
  local cut, cut_until, every = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
  local value = cut
  if now >= cut_until then value = cut + 1 + math.floor((now - cut_until) / every) end
  if value >= limit then return limit, nil, nil end
  return value, cut, cut_until
end
