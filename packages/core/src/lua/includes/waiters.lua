-- Waiters: a FIFO zset by ticket, deadlines in a second zset, records in a hash. The state hash
-- counts them (`waiting`), so a call with nobody queued never touches these keys.
--- @include "leases"
--- @include "epoch"

local function drop_waiter(s, id)
  if redis.call('ZREM', K_WAITERS, id) == 1 then
    s.waiting = math.max(0, s.waiting - 1)
    touch(s, 'waiting')
  end
  redis.call('ZREM', K_WDEADLINE, id)
  redis.call('HDEL', K_WINFO, id)
end

local function enqueue(s, id, w)
  if redis.call('ZADD', K_WAITERS, w.ticket, id) == 1 then
    s.waiting = s.waiting + 1
    touch(s, 'waiting')
  end
  redis.call('HSET', K_WINFO, id, cjson.encode(w))
end

-- Waiters that stopped polling leave.
local function sweep_waiters(s, now)
  if s.waiting == 0 then return end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_WDEADLINE, '-inf', now)) do
    drop_waiter(s, id)
    redis.call('HINCRBY', K_STATS, 'waitersDropped', 1)
  end
end

-- Hands free slots to the head waiters (FIFO) and pushes each grant to its client's channel,
-- with everything the waiter needs to use it at once (its local deadline comes from `expiresAt`
-- through the client's bound on the clock offset, so no confirming round trip is needed).
-- `out` (optional) collects {id, slot, token, expiresAt, ticket} of each grant for the reply.
local function promote(s, now, epoch_id, grace, out)
  if s.paused or now < grace or s.waiting == 0 then return 0 end
  local limit = effective_limit(s, now)
  local granted = 0
  while #s.leases < limit do
    local head = redis.call('ZRANGE', K_WAITERS, 0, 0, 'WITHSCORES')
    if #head == 0 then
      -- nobody left: the count is exact again even if it ever drifted
      if s.waiting ~= 0 then s.waiting = 0 touch(s, 'waiting') end
      break
    end
    local id, ticket = head[1], tonumber(head[2])
    local raw = redis.call('HGET', K_WINFO, id)
    drop_waiter(s, id)
    if raw then
      local w = cjson.decode(raw)
      local lease = grant(s, id, w, w.leaseTtl, now, ticket, epoch_id, limit)
      if not lease then break end
      redis.call('PUBLISH', w.channel, cjson.encode({
        type = 'grant', mailbox = MAILBOX, id = id, slot = lease.slot, token = lease.token,
        expiresAt = lease.expiresAt, epoch = epoch_id, ticket = ticket, now = now,
      }))
      if out then
        out[#out + 1] = id
        out[#out + 1] = lease.slot
        out[#out + 1] = lease.token
        out[#out + 1] = lease.expiresAt
        out[#out + 1] = ticket
      end
      granted = granted + 1
    end
  end
  return granted
end

-- Scripts that grant only to waiters (release, cancel) call this after their own work: with
-- nobody queued there is nothing to hand over, so the epoch and the sweeps run only when
-- somebody waits. Returns the number of grants and the epoch.
local function promote_waiters(s, now, out)
  if s.waiting == 0 then return 0 end
  local epoch_id, grace = current_epoch(s, now)
  sweep_leases(s, now)
  sweep_waiters(s, now)
  return promote(s, now, epoch_id, grace, out), epoch_id
end

-- Scripts that can grant to their caller (acquire, check) start here: the state, the time, the
-- epoch, and expired leases and dead waiters gone.
local function begin()
  local s = load_state()
  local now = now_ms()
  local epoch_id, grace = current_epoch(s, now)
  sweep_leases(s, now)
  sweep_waiters(s, now)
  return s, now, epoch_id, grace
end

local function promote_if_epoch(s, now, epoch_id, grace)
  if epoch_id then return promote(s, now, epoch_id, grace) end
  return 0
end
