--[[ Extend a lease. Never revives one that was released, expired, revoked or belongs to an old epoch.
  Input:  KEYS  the 5 state keys
          ARGV[1..5] slot context   ARGV[6] lease id   ARGV[7] slot
          ARGV[8] fencing token   ARGV[9] lease ttl ms   ARGV[10] epoch the lease was granted in
  Output: renewed {1, expiresAt}
          notHolder {-2}
          expired {-3}
          epochChanged {-4}
  notHolder: not (or no longer) the holder. With a matching run id claim and nobody queued, a
  renewal is TIME, one HMGET and one HSET. ]]
--- @include "slot-state"
--- @include "waiters"
local id, slot, token, ttl = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local s = load_state()
local now = now_ms()
local epoch_id, grace = current_epoch(s, now)
local result
if epoch_id ~= ARGV[10] then
  result = { -4 }
else
  local lease = lease_at(s, slot)
  if not lease or lease.id ~= id or lease.token ~= token then
    result = { -2 }
  elseif lease.expiresAt <= now then
    result = { -3 }
    sweep_leases(s, now) -- it ends as an expiry (event, counter) and is gone for later calls
  else
    extend(s, lease, ttl, now)
    result = { 1, lease.expiresAt }
  end
end
-- A renewal also serves waiters when a slot is free (e.g. after an expiry) and somebody waits.
if s.waiting > 0 then
  sweep_leases(s, now)
  sweep_waiters(s, now)
  promote(s, now, epoch_id, grace)
end
save(s)
return result
