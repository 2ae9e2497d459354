--[[ Rolling 24 h recipient budget. Recipients are counted in per-minute buckets; a bucket leaves
  the window only when its last possible entry is 24 h old, so the count never under-states.
  Input:  KEYS[1] bucket zset (member and score: bucket start)   KEYS[2] counts hash (bucket → n, total)
          ARGV[1] recipients to reserve (0: just read)   ARGV[2] per day   ARGV[3] bucket ms   ARGV[4] window ms
  Output: {1, 0, used, bucket} reserved (bucket: where they were counted, 0 for a read; rcptReturn-2
          gives back from it) | {0, retryAfterMs, used} not now | {-7, used} more than a whole day's budget ]]
--- @include "time"
local n, per_day, bucket_ms, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window - bucket_ms)
for _, b in ipairs(old) do
  local c = tonumber(redis.call('HGET', KEYS[2], b) or '0')
  redis.call('HINCRBY', KEYS[2], 'total', -c)
  redis.call('HDEL', KEYS[2], b)
  redis.call('ZREM', KEYS[1], b)
end
local used = tonumber(redis.call('HGET', KEYS[2], 'total') or '0')
if n > per_day then return { -7, used } end
if used + n <= per_day then
  local b = 0
  if n > 0 then
    b = math.floor(now / bucket_ms) * bucket_ms
    redis.call('ZADD', KEYS[1], b, b)
    redis.call('HINCRBY', KEYS[2], b, n)
    redis.call('HINCRBY', KEYS[2], 'total', n)
    redis.call('PEXPIRE', KEYS[1], window + 2 * bucket_ms)
    redis.call('PEXPIRE', KEYS[2], window + 2 * bucket_ms)
  end
  return { 1, 0, used + n, b }
end
-- Walk the oldest buckets until enough would have left the window.
local need, freed = used + n - per_day, 0
local buckets = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, b in ipairs(buckets) do
  freed = freed + tonumber(redis.call('HGET', KEYS[2], b) or '0')
  if freed >= need then return { 0, math.max(1, tonumber(b) + bucket_ms + window - now), used } end
end
return { 0, window, used }
