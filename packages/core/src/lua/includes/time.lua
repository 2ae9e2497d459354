-- Server time in ms: the only clock lease and rate arithmetic uses (invariant 3).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
