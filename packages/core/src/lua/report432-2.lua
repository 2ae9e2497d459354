--[[ 432 feedback (invariant 7): someone outside the system uses the mailbox. Cut its effective
  limit by one (never below 1) for a cool-down, then let it rise by one per raiseEveryMs.
  Reports within debounceMs of the last cut (the other holders seeing the same 432) only extend
  the cool-down.
  Input:  KEYS[1] state hash   KEYS[2] stats
          ARGV[1] mailbox   ARGV[2] events channel   ARGV[3] default limit
          ARGV[4] cool-down ms   ARGV[5] raise every ms   ARGV[6] debounce ms
  Output: cut {effectiveLimit} ]]
--- @include "time"
--- @include "feedback"
local cooldown, every, debounce = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()
local f = redis.call('HMGET', KEYS[1], 'limit', 'fbLimit', 'fbUntil', 'fbEvery', 'fbLastCut')
local limit = tonumber(f[1] or ARGV[3])
local current = feedback_limit(tonumber(f[2]), tonumber(f[3]), tonumber(f[4]), limit, now)
redis.call('HINCRBY', KEYS[2], 'rejections:432', 1)
local last_cut = tonumber(f[5] or '0')
local value = current
if now - last_cut < debounce then
  -- hold the level the cut reached for a full cool-down from now
  redis.call('HSET', KEYS[1], 'fbLimit', current, 'fbUntil', now + cooldown)
else
  value = math.max(1, current - 1)
  redis.call('HSET', KEYS[1], 'fbLimit', value, 'fbUntil', now + cooldown, 'fbEvery', every, 'fbLastCut', now)
end
redis.call('PUBLISH', ARGV[2], cjson.encode({ type = 'rejection', mailbox = ARGV[1], code = '432', effectiveLimit = value, at = now }))
return { value }
