-- Shared by every slot script. KEYS order is fixed by stateKeys() in keys.ts;
-- ARGV[1] default limit (no config hash), ARGV[2] epoch grace ms.
--- @include "time"
--- @include "feedback"
local K_CONFIG, K_LEASES, K_EXPIRY, K_OWNERS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_WAITERS, K_WDEADLINE, K_WINFO = KEYS[5], KEYS[6], KEYS[7]
local K_FENCE, K_TICKET, K_EPOCH, K_FEEDBACK, K_STATS = KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]
local DEFAULT_LIMIT = tonumber(ARGV[1])
local GRACE_MS = tonumber(ARGV[2])
local MAILBOX = string.match(K_CONFIG, '^ss:{(.*)}:config$')
local EVENTS = 'ss:events' -- EVENTS_CHANNEL in keys.ts
local FOREVER = 315360000000 -- ten years of ms: "no timeout"

local function publish_event(kind, now, fields)
  fields.type = kind
  fields.mailbox = MAILBOX
  fields.at = now
  redis.call('PUBLISH', EVENTS, cjson.encode(fields))
end

local function holder_of(r)
  return { agentId = r.agentId, host = r.host, pid = r.pid, worker = r.worker }
end

local function load_config()
  local c = redis.call('HMGET', K_CONFIG, 'limit', 'paused', 'pauseReason')
  return { limit = tonumber(c[1]) or DEFAULT_LIMIT, paused = c[2] == '1', reason = c[3] or '' }
end

-- The epoch names the Redis process whose memory holds this state. When it is missing (restart
-- without data) or was written by another process (restore from disk, failover), holders from
-- before can still think they hold leases: no grant until they must have given up (invariant 5).
local function current_epoch(now)
  local info = redis.call('INFO', 'server')
  local run = string.match(info, 'run_id:(%x+)')
  local e = redis.call('HMGET', K_EPOCH, 'run', 'id', 'grace')
  if e[1] == run then return e[2], tonumber(e[3]) end
  local grace
  if not e[1] then
    -- Nothing of this mailbox survived: old leases ended at the latest GRACE_MS after this
    -- process started. A fresh mailbox on a long-running Redis gets no grace at all.
    local uptime = tonumber(string.match(info, 'uptime_in_seconds:(%d+)')) or 0
    -- uptime is the difference of two whole-second clocks: up to 1 s more than the truth.
    grace = now - uptime * 1000 + GRACE_MS + 1000
    -- Unless this Redis is a promoted replica (master_replid2 is set from the promotion until
    -- the backlog is freed): replication is asynchronous, so the mailbox may have lived only on
    -- the old primary, with holders that are still connected.
    local replid2 = string.match(redis.call('INFO', 'replication'), 'master_replid2:(%x+)')
    if replid2 and string.find(replid2, '[^0]') then grace = now + GRACE_MS end
  else
    grace = now + GRACE_MS
  end
  -- Fencing tokens stay monotonic across the data loss: restart the counter at the clock.
  local fence = tonumber(redis.call('GET', K_FENCE) or '0')
  if fence < now then redis.call('SET', K_FENCE, now) end
  -- Named by a fencing number, so it differs from every earlier epoch id even within one ms.
  local id = run .. '-' .. redis.call('INCR', K_FENCE)
  redis.call('HSET', K_EPOCH, 'run', run, 'id', id, 'grace', grace)
  return id, grace
end

-- id: the lease's id (owners field), when the lease record was found.
local function drop_lease(slot, id)
  redis.call('HDEL', K_LEASES, slot)
  redis.call('ZREM', K_EXPIRY, slot)
  if id then redis.call('HDEL', K_OWNERS, id) end
end

local function drop_waiter(id)
  redis.call('ZREM', K_WAITERS, id)
  redis.call('ZREM', K_WDEADLINE, id)
  redis.call('HDEL', K_WINFO, id)
end

-- Expired leases and waiters that stopped polling leave.
local function sweep(now)
  local expired = redis.call('ZRANGEBYSCORE', K_EXPIRY, '-inf', now)
  for _, slot in ipairs(expired) do
    local raw = redis.call('HGET', K_LEASES, slot)
    local l = raw and cjson.decode(raw)
    drop_lease(slot, l and l.id)
    redis.call('HINCRBY', K_STATS, 'expired', 1)
    if l then
      publish_event('expire', now, { slot = tonumber(slot), token = l.token, holder = holder_of(l) })
    end
  end
  local dead = redis.call('ZRANGEBYSCORE', K_WDEADLINE, '-inf', now)
  for _, id in ipairs(dead) do
    drop_waiter(id)
    redis.call('HINCRBY', K_STATS, 'waitersDropped', 1)
  end
end

-- Lowest free slot number in 1..limit; returns the stored lease.
local function grant(id, who, ttl, now, ticket, epoch_id, limit)
  local taken = {}
  for _, s in ipairs(redis.call('HKEYS', K_LEASES)) do taken[tonumber(s)] = true end
  local slot = 0
  for s = 1, limit do
    if not taken[s] then slot = s break end
  end
  if slot == 0 then return nil end
  local token = redis.call('INCR', K_FENCE)
  local lease = {
    id = id, slot = slot, token = token, ticket = ticket, epoch = epoch_id,
    agentId = who.agentId, host = who.host, pid = who.pid, worker = who.worker, channel = who.channel,
    acquiredAt = now, expiresAt = now + ttl,
  }
  redis.call('HSET', K_LEASES, slot, cjson.encode(lease))
  redis.call('ZADD', K_EXPIRY, lease.expiresAt, slot)
  redis.call('HSET', K_OWNERS, id, slot)
  redis.call('HINCRBY', K_STATS, 'grants', 1)
  publish_event('grant', now, { slot = slot, token = token, holder = holder_of(lease) })
  return lease
end

local function effective_limit(cfg, now)
  return (feedback_limit(K_FEEDBACK, cfg.limit, now))
end

-- Hands free slots to the head waiters (FIFO) and pushes each grant to its client's channel,
-- with everything the waiter needs to use it at once (its local deadline comes from `expiresAt`
-- through the client's bound on the clock offset, so no confirming round trip is needed).
-- `out` (optional) collects {id, slot, token, expiresAt, ticket} of each grant for the reply.
local function promote(now, cfg, epoch_id, grace, out)
  if cfg.paused or now < grace or redis.call('ZCARD', K_WAITERS) == 0 then return 0 end
  local limit = effective_limit(cfg, now)
  local in_use = redis.call('HLEN', K_LEASES)
  local granted = 0
  while in_use < limit do
    local head = redis.call('ZRANGE', K_WAITERS, 0, 0, 'WITHSCORES')
    if #head == 0 then break end
    local id, ticket = head[1], tonumber(head[2])
    local raw = redis.call('HGET', K_WINFO, id)
    drop_waiter(id)
    if raw then
      local w = cjson.decode(raw)
      local lease = grant(id, w, w.leaseTtl, now, ticket, epoch_id, limit)
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
      in_use = in_use + 1
      granted = granted + 1
    end
  end
  return granted
end

-- Milliseconds until the state can change without anybody calling: grace end or the next expiry.
local function next_check(now, grace)
  local best = -1
  if now < grace then best = grace - now end
  local first = redis.call('ZRANGE', K_EXPIRY, 0, 0, 'WITHSCORES')
  if #first > 0 then
    local d = math.max(0, tonumber(first[2]) - now)
    if best < 0 or d < best then best = d end
  end
  return best
end

local function grant_reply(lease, now)
  return { 1, lease.slot, lease.token, lease.expiresAt, lease.epoch, lease.ticket, now }
end

local function lease_of(id)
  local slot = redis.call('HGET', K_OWNERS, id)
  if not slot then return nil end
  local raw = redis.call('HGET', K_LEASES, slot)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function extend(lease, ttl, now)
  lease.expiresAt = now + ttl
  redis.call('HSET', K_LEASES, lease.slot, cjson.encode(lease))
  redis.call('ZADD', K_EXPIRY, lease.expiresAt, lease.slot)
end

-- The caller's lease, extended to a full ttl from now, as a grant reply; nil when it holds none.
local function held_reply(id, ttl, now)
  local held = lease_of(id)
  if not held then return nil end
  extend(held, ttl, now)
  return grant_reply(held, now)
end

-- Every slot script starts here.
local function begin()
  local now = now_ms()
  local epoch_id, grace = current_epoch(now)
  sweep(now)
  return now, epoch_id, grace, load_config()
end

-- Scripts that grant only to waiters (release, cancel, renew) call this after their own work:
-- with nobody queued there is nothing to hand over, so the epoch (INFO), the sweep and the config
-- are read only when somebody waits. (Expired leases are swept by every acquire and poll, and
-- are never renewed: renew checks expiresAt itself.) Returns the number of grants and the epoch.
local function promote_waiters(now, out)
  if redis.call('ZCARD', K_WAITERS) == 0 then return 0 end
  local epoch_id, grace = current_epoch(now)
  sweep(now)
  return promote(now, load_config(), epoch_id, grace, out), epoch_id
end

-- Operator scripts never open an epoch (they do not know the holders' lease TTL): without a
-- current epoch they do not promote; the next client call opens it with the right grace.
local function begin_admin()
  local now = now_ms()
  local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
  local e = redis.call('HMGET', K_EPOCH, 'run', 'id', 'grace')
  sweep(now)
  if e[1] ~= run then return now, nil, nil, load_config() end
  return now, e[2], tonumber(e[3]), load_config()
end

local function promote_if_epoch(now, cfg, epoch_id, grace)
  if epoch_id then return promote(now, cfg, epoch_id, grace) end
  return 0
end
