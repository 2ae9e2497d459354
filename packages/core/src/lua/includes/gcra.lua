-- GCRA on one key holding the theoretical arrival time (Redis ms). With burst 1 tokens are
-- spaced exactly 60 000 / perMinute ms apart, so no rolling minute ever holds more than perMinute.
-- Returns 0 when a token is free now (take it with gcra_take), else the ms until one is.
local function gcra_wait(key, per_minute, burst, now)
  local interval = 60000 / per_minute
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local allow_at = tat - (burst - 1) * interval
  if now < allow_at then return math.ceil(allow_at - now), tat end
  return 0, tat
end

local function gcra_take(key, per_minute, tat, now)
  local new_tat = tat + 60000 / per_minute
  redis.call('SET', key, string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now) + 1000)
end
