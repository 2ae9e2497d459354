--[[ Reads the state of many mailboxes in one call, for the API, dashboard and /metrics
  (admin/bulk-snapshot.ts shapes the replies; this script only reads). Read-only.
  Input:  KEYS: 11 keys per mailbox, in the order snapshotKeys() in bulk-snapshot.ts lists them:
          config, leases, waiters, waiter deadlines, waiter info, epoch, feedback, stats, rate,
          recipient buckets, recipient counts
          ARGV[1] recipient bucket ms   ARGV[2] recipient window ms
  Output: {now, per mailbox: config (flat), feedback {limit, until, raiseEveryMs}, lease JSONs,
          waiter ids (FIFO), waiter deadlines (flat, WITHSCORES), waiter info (flat), stats (flat),
          grace, rate tat, recipients used in the last 24 h}
  On a Cluster every key of one call must share a hash slot: the caller then sends one mailbox
  per call. ]]
--- @include "time"
local now = now_ms()
local bucket_ms, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = { now }
for i = 1, #KEYS, 11 do
  local config, leases, waiters, wdeadline, winfo, epoch, feedback, stats, rate, rcpt, rcptn =
    KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], KEYS[i + 4], KEYS[i + 5], KEYS[i + 6], KEYS[i + 7], KEYS[i + 8], KEYS[i + 9], KEYS[i + 10]
  -- `total` sums every bucket still stored; those whose last entry left the window (not yet
  -- pruned by the next reservation, see rcptReserve-2.lua) are taken off again.
  local used = tonumber(redis.call('HGET', rcptn, 'total') or '0')
  if used > 0 then
    for _, b in ipairs(redis.call('ZRANGEBYSCORE', rcpt, '-inf', now - window - bucket_ms)) do
      used = used - tonumber(redis.call('HGET', rcptn, b) or '0')
    end
  end
  out[#out + 1] = redis.call('HGETALL', config)
  out[#out + 1] = redis.call('HMGET', feedback, 'limit', 'until', 'raiseEveryMs')
  out[#out + 1] = redis.call('HVALS', leases)
  local ids = redis.call('ZRANGE', waiters, 0, -1)
  out[#out + 1] = ids
  -- Most mailboxes have no waiter: skip the two reads that would find nothing.
  out[#out + 1] = #ids > 0 and redis.call('ZRANGE', wdeadline, 0, -1, 'WITHSCORES') or {}
  out[#out + 1] = #ids > 0 and redis.call('HGETALL', winfo) or {}
  out[#out + 1] = redis.call('HGETALL', stats)
  out[#out + 1] = redis.call('HGET', epoch, 'grace')
  out[#out + 1] = redis.call('GET', rate)
  out[#out + 1] = used
end
return out
