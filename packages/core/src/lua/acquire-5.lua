--[[ Grant a free slot to the caller, or enqueue it as a FIFO waiter.
  Input:  KEYS  the 5 state keys (keys.ts stateKeys)
          ARGV[1..5] slot context (includes/slot-state.lua)   ARGV[6] request id (lease/waiter id)
          ARGV[7] holder JSON {agentId, host, pid, worker, channel}
          ARGV[8] lease ttl ms    ARGV[9] waiter ttl ms (dropped when it stops polling)
          ARGV[10] wait ms: -1 try only, 0 no timeout, >0 timeout
          ARGV[11] ticket to keep after having been dropped (0: take a new one)
  Output: granted {1, slot, token, expiresAt, epoch, ticket, now}
          queued {0, position, nextCheckMs, ticket, now}
          paused {-1, reason}
  Try only answers queued with position 0 and ticket 0. A slot is granted at once only when
  nobody is queued (FIFO across all processes). Repeating a request id is safe: it answers the
  existing lease or queue position. Uncontended, a grant is TIME, one HMGET, one HSET and the
  grant event. ]]
--- @include "slot-state"
--- @include "waiters"
local id, ttl, waiter_ttl, wait_ms, kept = ARGV[6], tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local s, now, epoch_id, grace = begin()

local reply = held_reply(s, id, ttl, now)
if reply then save(s) return reply end
if s.paused then
  if s.waiting > 0 then drop_waiter(s, id) end
  save(s)
  return { -1, s.reason }
end
if s.waiting > 0 and promote(s, now, epoch_id, grace) > 0 then
  reply = held_reply(s, id, ttl, now)
  if reply then save(s) return reply end
end

local queued = s.waiting > 0 and redis.call('ZSCORE', K_WAITERS, id)
local info
if not queued then
  if now >= grace and s.waiting == 0 then
    local limit = effective_limit(s, now)
    if #s.leases < limit then
      local lease = grant(s, id, cjson.decode(ARGV[7]), ttl, now, take_ticket(s, kept), epoch_id, limit)
      save(s)
      return grant_reply(lease, now)
    end
  end
  if wait_ms < 0 then save(s) return { 0, 0, next_check(s, now, grace), 0, now } end
  local w = cjson.decode(ARGV[7])
  w.id = id
  w.ticket = take_ticket(s, kept)
  w.enqueuedAt = now
  w['until'] = now + (wait_ms > 0 and wait_ms or FOREVER)
  w.waiterTtl = waiter_ttl
  w.leaseTtl = ttl
  enqueue(s, id, w)
  info = w
else
  info = cjson.decode(redis.call('HGET', K_WINFO, id))
end
redis.call('ZADD', K_WDEADLINE, math.min(info['until'], now + waiter_ttl), id)
save(s)
return { 0, redis.call('ZRANK', K_WAITERS, id) + 1, next_check(s, now, grace), info.ticket, now }
