--[[ Release a lease (owner-checked, idempotent) and hand free slots to the head waiters in the same step.
  Input:  KEYS  the 12 state keys
          ARGV[1] default limit   ARGV[2] epoch grace ms   ARGV[3] lease id   ARGV[4] slot   ARGV[5] fencing token
  Output: {1, handedOff} released | {0, handedOff} not the holder (already released, expired, revoked) ]]
--- @include "state"
local id, slot, token = ARGV[3], ARGV[4], tonumber(ARGV[5])
local now, cfg = begin_release()
local raw = redis.call('HGET', K_LEASES, slot)
local released = 0
if raw then
  local lease = cjson.decode(raw)
  if lease.id == id and lease.token == token then
    drop_lease(slot, raw)
    redis.call('HINCRBY', K_STATS, 'releases', 1)
    publish_event('release', now, { slot = lease.slot, token = lease.token, holder = holder_of(lease) })
    released = 1
  end
end
return { released, promote_waiters(now, cfg) }
