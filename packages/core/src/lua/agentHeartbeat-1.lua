--[[ Record an agent heartbeat with Redis TIME; forget agents silent for over a day.
  Input:  KEYS[1] agents hash   ARGV[1] agent id   ARGV[2] record JSON   ARGV[3] ttl ms
  Output: recorded {now}
  now: Redis ms. ]]
--- @include "time"
local now = now_ms()
local record = cjson.decode(ARGV[2])
record.lastSeen = now
record.ttlMs = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local r = cjson.decode(all[i + 1])
  if (r.lastSeen or 0) + (r.ttlMs or 0) + 86400000 < now then redis.call('HDEL', KEYS[1], all[i]) end
end
return { now }
