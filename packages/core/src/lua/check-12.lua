--[[ A waiter's poll: pick up a slot handed to it (when the push was lost), or refresh its place in the queue.
  Input:  KEYS  the 12 state keys
          ARGV[1] default limit   ARGV[2] epoch grace ms   ARGV[3] waiter id   ARGV[4] lease ttl ms
  Output: {1, slot, token, expiresAt, epoch, ticket, now}  granted (the lease now runs for the full ttl)
          {0, position, nextCheckMs, now}                   still queued (deadline refreshed)
          {-1, reason}                                      mailbox paused (the waiter was removed)
          {-5}                                              unknown waiter: it stopped polling and was dropped
  Runs on the safety poll. ]]
--- @include "state"
local id, ttl = ARGV[3], tonumber(ARGV[4])
local now, epoch_id, grace, cfg = begin()

local reply = held_reply(id, ttl, now)
if reply then return reply end
if not redis.call('ZSCORE', K_WAITERS, id) then return { -5 } end
if cfg.paused then
  drop_waiter(id)
  return { -1, cfg.reason }
end
promote(now, cfg, epoch_id, grace)
reply = held_reply(id, ttl, now)
if reply then return reply end
local info = cjson.decode(redis.call('HGET', K_WINFO, id))
redis.call('ZADD', K_WDEADLINE, math.min(info['until'], now + info.waiterTtl), id)
return { 0, redis.call('ZRANK', K_WAITERS, id) + 1, next_check(now, grace), now }
