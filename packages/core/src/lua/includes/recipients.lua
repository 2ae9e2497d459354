-- Rolling 24 h recipient budget. Recipients are counted in per-minute buckets; a bucket leaves
-- the window only when its last possible entry is 24 h old, so the count never under-states.
-- buckets: zset (member and score: bucket start); counts: hash (bucket → n, plus `total`).

-- Drops buckets that left the window; returns the recipients still in it.
local function recipients_used(buckets, counts, bucket_ms, window, now)
  for _, b in ipairs(redis.call('ZRANGEBYSCORE', buckets, '-inf', now - window - bucket_ms)) do
    local c = tonumber(redis.call('HGET', counts, b) or '0')
    redis.call('HINCRBY', counts, 'total', -c)
    redis.call('HDEL', counts, b)
    redis.call('ZREM', buckets, b)
  end
  return tonumber(redis.call('HGET', counts, 'total') or '0')
end

-- Ms until enough of the oldest buckets left the window for `need` more recipients.
local function recipients_wait(buckets, counts, need, bucket_ms, window, now)
  local freed = 0
  for _, b in ipairs(redis.call('ZRANGE', buckets, 0, -1)) do
    freed = freed + tonumber(redis.call('HGET', counts, b) or '0')
    if freed >= need then return math.max(1, tonumber(b) + bucket_ms + window - now) end
  end
  return window
end

-- Counts n recipients in the current bucket; returns that bucket (0 when n is 0).
local function recipients_add(buckets, counts, n, bucket_ms, window, now)
  if n <= 0 then return 0 end
  local b = math.floor(now / bucket_ms) * bucket_ms
  redis.call('ZADD', buckets, b, b)
  redis.call('HINCRBY', counts, b, n)
  redis.call('HINCRBY', counts, 'total', n)
  redis.call('PEXPIRE', buckets, window + 2 * bucket_ms)
  redis.call('PEXPIRE', counts, window + 2 * bucket_ms)
  return b
end
