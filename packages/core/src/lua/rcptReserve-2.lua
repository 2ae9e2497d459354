--[[ Rolling 24 h recipient budget (includes/recipients.lua).
  Input:  KEYS[1] bucket zset (member and score: bucket start)   KEYS[2] counts hash (bucket → n, total)
          ARGV[1] recipients to reserve (0: just read)   ARGV[2] per day   ARGV[3] bucket ms   ARGV[4] window ms
  Output: reserved {1, retryAfterMs, used, bucket}
          notNow {0, retryAfterMs, used}
          overBudget {-7, used}
  retryAfterMs is 0 when reserved; bucket: where they were counted (0 for a read; rcptReturn-2
  gives back from it); overBudget: more than a whole day's budget at once. ]]
--- @include "time"
--- @include "recipients"
local n, per_day, bucket_ms, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local ledger = recipients_load(KEYS[1], KEYS[2], bucket_ms, window, now)
local used = ledger.total
if n > per_day then return { -7, used } end
if used + n > per_day then return { 0, recipients_wait(KEYS[1], KEYS[2], used + n - per_day, bucket_ms, window, now), used } end
local bucket = recipients_add(KEYS[1], KEYS[2], ledger, n, bucket_ms, window)
return { 1, 0, used + n, bucket }
