--[[ Reads the figures /metrics needs of many mailboxes in one call: a few numbers per mailbox
  instead of the whole state (snapshotMany-n.lua), so a scrape over 10,000s of mailboxes moves
  little data and makes few objects. Read-only; the counting follows the grant scripts: live
  leases only, the 432 cut as includes/feedback.lua applies it, live waiters only.
  Input:  KEYS: 6 per mailbox, in the order pushFigureKeys() in keys.ts lists them: state,
          waiter deadlines, stats, rate, recipient buckets, recipient counts
          ARGV[1] recipient bucket ms   ARGV[2] recipient window ms
          ARGV[3] default limit   ARGV[4] default per minute   ARGV[5] default recipients per day
  Output: figures {now, ...mailboxes}
          ...mailboxes {limit, effectiveLimit, inUse, waiting, paused, rateReady, ratePerMinute, used24h, recipientsPerDay, grants, stats}
  rateReady: 1 when a message may start now under the rate limit; stats: flat HGETALL reply.
  On a Cluster all keys of one call must share a hash slot: the caller then sends one mailbox
  per call. ]]
--- @include "time"
--- @include "feedback"
--- @include "recipients-seen"
local now = now_ms()
local bucket_ms, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local default_limit, default_rate, default_rcpt = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local out = { now }
for i = 1, #KEYS, 6 do
  local state, wdeadline, stats, rate, rcpt, rcptn = KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], KEYS[i + 4], KEYS[i + 5]
  local v = redis.call('HMGET', state, 'limit', 'ratePerMinute', 'recipientsPerDay', 'paused', 'fbLimit', 'fbUntil', 'fbEvery', 'leases', 'grants', 'waiting')
  local limit = tonumber(v[1]) or default_limit
  local in_use = 0
  -- Expired leases are not counted: their holder's local deadline has passed (invariant 1).
  if v[8] then
    for _, l in ipairs(cjson.decode(v[8])) do
      if l.expiresAt > now then in_use = in_use + 1 end
    end
  end
  local tat = tonumber(redis.call('GET', rate) or '0')
  out[#out + 1] = limit
  out[#out + 1] = (feedback_limit(tonumber(v[5]), tonumber(v[6]), tonumber(v[7]), limit, now))
  out[#out + 1] = in_use
  -- `waiting` counts queued waiters, expired ones too: only then are the deadlines worth reading.
  out[#out + 1] = (tonumber(v[10]) or 0) > 0 and redis.call('ZCOUNT', wdeadline, '(' .. now, '+inf') or 0
  out[#out + 1] = v[4] == '1' and 1 or 0
  out[#out + 1] = tat <= now and 1 or 0
  out[#out + 1] = tonumber(v[2]) or default_rate
  out[#out + 1] = recipients_seen(rcpt, rcptn, bucket_ms, window, now)
  out[#out + 1] = tonumber(v[3]) or default_rcpt
  out[#out + 1] = tonumber(v[9]) or 0
  out[#out + 1] = redis.call('HGETALL', stats)
end
return out
