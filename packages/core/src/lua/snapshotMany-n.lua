--[[ Reads the state of many mailboxes in one call, for the API, dashboard and /metrics; read-only
  (admin/bulk-snapshot.ts turns the replies into the figures; this script only reads).
  Input:  KEYS: 8 per mailbox, in the order snapshotKeys() in bulk-snapshot.ts lists them: state,
          waiters, waiter deadlines, waiter info, stats, rate, recipient buckets, recipient counts
          ARGV[1] recipient bucket ms   ARGV[2] recipient window ms
  Output: snapshots {now, ...mailboxes}
          ...mailboxes {state, waiterIds, waiterDeadlines, waiterInfo, stats, tat, used24h}
  state, waiterInfo, stats: flat HGETALL replies; waiterIds in FIFO order; waiterDeadlines: ZRANGE
  WITHSCORES. On a Cluster all keys of one call must share a hash slot: the caller then sends one
  mailbox per call. ]]
--- @include "time"
--- @include "recipients-seen"
local now = now_ms()
local bucket_ms, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = { now }
for i = 1, #KEYS, 8 do
  local state, waiters, wdeadline, winfo, stats, rate, rcpt, rcptn =
    KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], KEYS[i + 4], KEYS[i + 5], KEYS[i + 6], KEYS[i + 7]
  local ids = redis.call('ZRANGE', waiters, 0, -1)
  local used = recipients_seen(rcpt, rcptn, bucket_ms, window, now)
  out[#out + 1] = redis.call('HGETALL', state)
  out[#out + 1] = ids
  -- Most mailboxes have no waiter: skip the two reads that would find nothing.
  out[#out + 1] = #ids > 0 and redis.call('ZRANGE', wdeadline, 0, -1, 'WITHSCORES') or {}
  out[#out + 1] = #ids > 0 and redis.call('HGETALL', winfo) or {}
  out[#out + 1] = redis.call('HGETALL', stats)
  out[#out + 1] = redis.call('GET', rate) or '0'
  out[#out + 1] = used
end
return out
