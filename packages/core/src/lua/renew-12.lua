--[[ Extend a lease. Never revives one that was released, expired, revoked or belongs to an old epoch.
  Input:  KEYS  the 12 state keys
          ARGV[1] default limit   ARGV[2] epoch grace ms   ARGV[3] lease id   ARGV[4] slot
          ARGV[5] fencing token   ARGV[6] lease ttl ms     ARGV[7] epoch the lease was granted in
  Output: {1, expiresAt} | {-2} not (or no longer) the holder | {-3} expired | {-4} epoch changed ]]
--- @include "state"
local id, slot, token, ttl = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()
local epoch_id, grace = current_epoch(now)
local result
if epoch_id ~= ARGV[7] then
  result = { -4 }
else
  local raw = redis.call('HGET', K_LEASES, slot)
  local lease = raw and cjson.decode(raw)
  if not lease or lease.id ~= id or lease.token ~= token then
    result = { -2 }
  elseif lease.expiresAt <= now then
    result = { -3 }
    sweep(now) -- it ends as an expiry (event, counter) and is gone for later calls
  else
    extend(lease, ttl, now)
    result = { 1, lease.expiresAt }
  end
end
-- A renewal also serves waiters when a slot is free (e.g. after an expiry) and somebody waits.
if redis.call('ZCARD', K_WAITERS) > 0 then
  sweep(now)
  promote(now, load_config(), epoch_id, grace)
end
return result
