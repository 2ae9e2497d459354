-- Leases: the `leases` field of the state hash holds every live lease as JSON records
-- {id, slot, token, ticket, epoch, agentId, host, pid, worker, channel, acquiredAt, expiresAt}.
--- @include "events"
--- @include "feedback"

local function lease_by_id(s, id)
  for i, l in ipairs(s.leases) do
    if l.id == id then return l, i end
  end
  return nil
end

local function lease_at(s, slot)
  for i, l in ipairs(s.leases) do
    if l.slot == slot then return l, i end
  end
  return nil
end

local function remove_lease(s, i)
  table.remove(s.leases, i)
  touch(s, 'leases')
end

-- A release by its holder: counted and announced.
local function release_lease(s, i, now)
  local l = s.leases[i]
  remove_lease(s, i)
  s.releases = s.releases + 1
  touch(s, 'releases')
  publish_event('release', now, { slot = l.slot, token = l.token, holder = holder_of(l) })
end

-- Expired leases leave (counted in stats, announced).
local function sweep_leases(s, now)
  for i = #s.leases, 1, -1 do
    local l = s.leases[i]
    if l.expiresAt <= now then
      remove_lease(s, i)
      redis.call('HINCRBY', K_STATS, 'expired', 1)
      publish_event('expire', now, { slot = l.slot, token = l.token, holder = holder_of(l) })
    end
  end
end

local function effective_limit(s, now)
  return (feedback_limit(s.fb_limit, s.fb_until, s.fb_every, s.limit, now))
end

-- Lowest free slot number in 1..limit; returns the stored lease (nil when none is free).
local function grant(s, id, who, ttl, now, ticket, epoch_id, limit)
  local taken = {}
  for _, l in ipairs(s.leases) do taken[l.slot] = true end
  local slot = 0
  for n = 1, limit do
    if not taken[n] then slot = n break end
  end
  if slot == 0 then return nil end
  s.fence = s.fence + 1
  s.grants = s.grants + 1
  local lease = {
    id = id, slot = slot, token = s.fence, ticket = ticket, epoch = epoch_id,
    agentId = who.agentId, host = who.host, pid = who.pid, worker = who.worker, channel = who.channel,
    acquiredAt = now, expiresAt = now + ttl,
  }
  s.leases[#s.leases + 1] = lease
  touch(s, 'leases', 'fence', 'grants')
  publish_event('grant', now, { slot = slot, token = lease.token, holder = holder_of(lease) })
  return lease
end

local function extend(s, lease, ttl, now)
  lease.expiresAt = now + ttl
  touch(s, 'leases')
end

local function grant_reply(lease, now)
  return { 1, lease.slot, lease.token, lease.expiresAt, lease.epoch, lease.ticket, now }
end

-- The caller's lease, extended to a full ttl from now, as a grant reply; nil when it holds none.
local function held_reply(s, id, ttl, now)
  local held = lease_by_id(s, id)
  if not held then return nil end
  extend(s, held, ttl, now)
  return grant_reply(held, now)
end

-- The next ticket (arrival order), unless the caller keeps the one it had before being dropped.
local function take_ticket(s, kept)
  if kept ~= 0 then return kept end
  s.ticket = s.ticket + 1
  touch(s, 'ticket')
  return s.ticket
end

-- Milliseconds until the state can change without anybody calling: grace end or the next expiry.
local function next_check(s, now, grace)
  local best = -1
  if now < grace then best = grace - now end
  for _, l in ipairs(s.leases) do
    local d = math.max(0, l.expiresAt - now)
    if best < 0 or d < best then best = d end
  end
  return best
end
