--[[ One message's share of a mailbox's limits in one call: a rate token (GCRA) and its recipients
  in the rolling 24 h budget, both or neither (so a message held back for one limit never spends
  the other).
  Input:  KEYS[1] rate   KEYS[2] recipient buckets   KEYS[3] recipient counts
          ARGV[1] per minute   ARGV[2] burst   ARGV[3] recipients   ARGV[4] per day
          ARGV[5] bucket ms   ARGV[6] window ms
  Output: allowed {1, used, bucket}
          rateNotNow {0, retryAfterMs, used}
          recipientsNotNow {2, retryAfterMs, used}
          overBudget {-7, used}
  used: recipients in the window, this message's included when allowed; bucket: where they were
  counted (rcptReturn-2 gives back from it; 0 for no recipients). The recipient budget is
  checked first: when both must wait, the answer names the recipients. ]]
--- @include "time"
--- @include "gcra"
--- @include "recipients"
local per_minute, burst, n, per_day = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local bucket_ms, window = tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()
local ledger = recipients_load(KEYS[2], KEYS[3], bucket_ms, window, now)
local used = ledger.total
if n > per_day then return { -7, used } end
if used + n > per_day then return { 2, recipients_wait(KEYS[2], KEYS[3], used + n - per_day, bucket_ms, window, now), used } end
local wait, tat = gcra_wait(KEYS[1], per_minute, burst, now)
if wait > 0 then return { 0, wait, used } end
gcra_take(KEYS[1], per_minute, tat, now)
return { 1, used + n, recipients_add(KEYS[2], KEYS[3], ledger, n, bucket_ms, window) }
