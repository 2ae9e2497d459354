--[[ Grant a free slot to the caller, or enqueue it as a FIFO waiter.
  Input:  KEYS  the 12 state keys (keys.ts stateKeys)
          ARGV[1] default limit   ARGV[2] epoch grace ms   ARGV[3] request id (lease/waiter id)
          ARGV[4] holder JSON {agentId, host, pid, worker, channel}
          ARGV[5] lease ttl ms    ARGV[6] waiter ttl ms (dropped when it stops polling)
          ARGV[7] wait ms: -1 try only, 0 no timeout, >0 timeout
          ARGV[8] ticket to keep after having been dropped (0: take a new one)
  Output: {1, slot, token, expiresAt, epoch, ticket, now}  granted
          {0, position, nextCheckMs, ticket, now}           queued (try only: position 0, ticket 0)
          {-1, reason}                                      mailbox paused
  A slot is granted at once only when nobody is queued (FIFO across all processes).
  Repeating a request id is safe: it answers the existing lease or queue position. ]]
--- @include "state"
local id, ttl, waiter_ttl, wait_ms = ARGV[3], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local now, epoch_id, grace, cfg = begin()

local reply = held_reply(id, ttl, now)
if reply then return reply end
if cfg.paused then
  drop_waiter(id)
  return { -1, cfg.reason }
end
local waiting = redis.call('ZCARD', K_WAITERS)
if waiting > 0 and promote(now, cfg, epoch_id, grace) > 0 then
  reply = held_reply(id, ttl, now)
  if reply then return reply end
  waiting = redis.call('ZCARD', K_WAITERS)
end

local queued = waiting > 0 and redis.call('ZSCORE', K_WAITERS, id)
local info
if not queued then
  if now >= grace and waiting == 0 then
    local limit = effective_limit(cfg, now)
    if redis.call('HLEN', K_LEASES) < limit then
      local ticket = tonumber(ARGV[8])
      if ticket == 0 then ticket = redis.call('INCR', K_TICKET) end
      return grant_reply(grant(id, cjson.decode(ARGV[4]), ttl, now, ticket, epoch_id, limit), now)
    end
  end
  if wait_ms < 0 then return { 0, 0, next_check(now, grace), 0, now } end
  local ticket = tonumber(ARGV[8])
  if ticket == 0 then ticket = redis.call('INCR', K_TICKET) end
  local w = cjson.decode(ARGV[4])
  w.id = id
  w.ticket = ticket
  w.enqueuedAt = now
  w['until'] = now + (wait_ms > 0 and wait_ms or FOREVER)
  w.waiterTtl = waiter_ttl
  w.leaseTtl = ttl
  redis.call('ZADD', K_WAITERS, ticket, id)
  redis.call('HSET', K_WINFO, id, cjson.encode(w))
  info = w
else
  info = cjson.decode(redis.call('HGET', K_WINFO, id))
end
redis.call('ZADD', K_WDEADLINE, math.min(info['until'], now + waiter_ttl), id)
return { 0, redis.call('ZRANK', K_WAITERS, id) + 1, next_check(now, grace), info.ticket, now }
