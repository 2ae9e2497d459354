-- 432 feedback: the effective limit while a cut is active (see report432-2.lua). A cut holds
-- `fb_limit` until `fb_until`, then rises by one at `fb_until` and every `fb_every` ms after.
-- Returns the effective limit, and the cut and its end while one is active.
local function feedback_limit(fb_limit, fb_until, fb_every, limit, now)
  if not fb_limit then return limit, nil, nil end
  local value = fb_limit
  if now >= fb_until then value = fb_limit + 1 + math.floor((now - fb_until) / fb_every) end
  if value >= limit then return limit, nil, nil end
  return value, fb_limit, fb_until
end
