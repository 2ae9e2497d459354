-- Rolling 24 h recipient budget. Recipients are counted in per-minute buckets; a bucket leaves
-- the window only when its last possible entry is 24 h old, so the count never under-states.
-- buckets: zset (member and score: bucket start); counts: hash (bucket → n, `total`, and
-- `oldest`: a bucket start no later than the oldest stored bucket, or absent when unknown).
-- With `oldest` still inside the window nothing can have left it: a message's budget is then one
-- HMGET and one HSET; the zset is touched once per bucket and the sweep once per bucket leaving.

-- The ledger as of `now`: buckets that left the window dropped. Returns {total, bucket, in_bucket,
-- oldest} for recipients_add (bucket: the current one; in_bucket: what it holds, nil when new).
local function recipients_load(buckets, counts, bucket_ms, window, now)
  local b = math.floor(now / bucket_ms) * bucket_ms
  local v = redis.call('HMGET', counts, 'total', 'oldest', b)
  local r = { total = tonumber(v[1]) or 0, oldest = tonumber(v[2]), bucket = b, in_bucket = tonumber(v[3]) }
  local edge = now - window - bucket_ms
  if r.oldest and r.oldest > edge then return r end
  local gone = redis.call('ZRANGEBYSCORE', buckets, '-inf', edge)
  if #gone > 0 then
    for _, c in ipairs(redis.call('HMGET', counts, unpack(gone))) do r.total = r.total - (tonumber(c) or 0) end
    redis.call('HDEL', counts, unpack(gone))
    redis.call('ZREMRANGEBYSCORE', buckets, '-inf', edge)
  end
  local first = redis.call('ZRANGE', buckets, 0, 0)[1]
  r.oldest = tonumber(first)
  if r.oldest then
    redis.call('HSET', counts, 'total', r.total, 'oldest', r.oldest)
  elseif #gone > 0 then
    redis.call('HSET', counts, 'total', r.total)
  end
  return r
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

-- Counts n recipients in the current bucket of a loaded ledger `r`; returns that bucket (0 when
-- n is 0). The keys' expiry is set when a bucket starts: it outlives that bucket's last entry.
local function recipients_add(buckets, counts, r, n, bucket_ms, window)
  if n <= 0 then return 0 end
  local b = r.bucket
  if not r.in_bucket then
    redis.call('ZADD', buckets, b, b)
    redis.call('PEXPIRE', buckets, window + 2 * bucket_ms)
    if not r.oldest or b < r.oldest then r.oldest = b end
  end
  redis.call('HSET', counts, b, (r.in_bucket or 0) + n, 'total', r.total + n, 'oldest', r.oldest)
  if not r.in_bucket then redis.call('PEXPIRE', counts, window + 2 * bucket_ms) end
  r.total, r.in_bucket = r.total + n, (r.in_bucket or 0) + n
  return b
end
