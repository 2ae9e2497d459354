--[[ 432 feedback (invariant 7): someone outside the system uses the mailbox. Cut its effective
  limit by one (never below 1) for a cool-down, then let it rise by one per raiseEveryMs.
  Reports within debounceMs of the last cut (the other holders seeing the same 432) only extend
  the cool-down.
  Input:  KEYS[1] config   KEYS[2] feedback   KEYS[3] stats
          ARGV[1] default limit   ARGV[2] cool-down ms   ARGV[3] raise every ms   ARGV[4] debounce ms
  Output: {effectiveLimit} ]]
--- @include "time"
--- @include "feedback"
local cooldown, every, debounce = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or ARGV[1])
local current = feedback_limit(KEYS[2], limit, now)
redis.call('HINCRBY', KEYS[3], 'rejections:432', 1)
local last_cut = tonumber(redis.call('HGET', KEYS[2], 'lastCut') or '0')
local value = current
if now - last_cut < debounce then
  -- hold the level the cut reached for a full cool-down from now
  redis.call('HSET', KEYS[2], 'limit', current, 'until', now + cooldown)
else
  value = math.max(1, current - 1)
  redis.call('HSET', KEYS[2], 'limit', value, 'until', now + cooldown, 'raiseEveryMs', every, 'lastCut', now)
end
redis.call('PEXPIRE', KEYS[2], cooldown + every * (limit + 1))
local mailbox = string.match(KEYS[1], '^ss:{(.*)}:config$')
redis.call('PUBLISH', 'ss:events', cjson.encode({ type = 'rejection', mailbox = mailbox, code = '432', effectiveLimit = value, at = now }))
return { value }
