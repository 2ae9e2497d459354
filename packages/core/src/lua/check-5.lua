--[[ A waiter's poll: pick up a slot handed to it (when the push was lost), or refresh its place in the queue.
  Input:  KEYS  the 5 state keys
          ARGV[1..5] slot context   ARGV[6] waiter id   ARGV[7] lease ttl ms
  Output: granted {1, slot, token, expiresAt, epoch, ticket, now}
          queued {0, position, nextCheckMs, now}
          paused {-1, reason}
          unknownWaiter {-5}
  A granted lease now runs for the full ttl; a queued waiter's deadline is refreshed; a paused
  mailbox removes the waiter; an unknown waiter stopped polling and was dropped. Runs on the
  safety poll. ]]
--- @include "slot-state"
--- @include "waiters"
local id, ttl = ARGV[6], tonumber(ARGV[7])
local s, now, epoch_id, grace = begin()

local reply = held_reply(s, id, ttl, now)
if reply then save(s) return reply end
if s.waiting == 0 or not redis.call('ZSCORE', K_WAITERS, id) then save(s) return { -5 } end
if s.paused then
  drop_waiter(s, id)
  save(s)
  return { -1, s.reason }
end
promote(s, now, epoch_id, grace)
reply = held_reply(s, id, ttl, now)
if reply then save(s) return reply end
local info = cjson.decode(redis.call('HGET', K_WINFO, id))
redis.call('ZADD', K_WDEADLINE, math.min(info['until'], now + info.waiterTtl), id)
save(s)
return { 0, redis.call('ZRANK', K_WAITERS, id) + 1, next_check(s, now, grace), now }
