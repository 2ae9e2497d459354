-- Read-only count of the rolling 24 h recipients (includes/recipients.lua has the writing side):
-- `total` sums every bucket still stored; buckets whose last entry left the window, not yet
-- pruned by the next reservation, are taken off again.
local function recipients_seen(buckets, counts, bucket_ms, window, now)
  local used = tonumber(redis.call('HGET', counts, 'total') or '0')
  if used > 0 then
    for _, b in ipairs(redis.call('ZRANGEBYSCORE', buckets, '-inf', now - window - bucket_ms)) do
      used = used - tonumber(redis.call('HGET', counts, b) or '0')
    end
  end
  return used
end
