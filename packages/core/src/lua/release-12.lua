--[[ Release a lease (owner-checked, idempotent) and hand free slots to the head waiters in the same step.
  Input:  KEYS  the 12 state keys
          ARGV[1] default limit   ARGV[2] epoch grace ms   ARGV[3] lease id   ARGV[4] slot   ARGV[5] fencing token
  Output: {1, handedOff, now, epoch, grants...} released
          {0, handedOff, now, epoch, grants...} not the holder (already released, expired, revoked)
          grants: id, slot, token, expiresAt, ticket for each waiter served (also pushed to its
          client; a client that holds the waiter itself uses the reply and skips the push). epoch
          is '' when nobody was served. ]]
--- @include "state"
local id, slot, token = ARGV[3], ARGV[4], tonumber(ARGV[5])
local now = now_ms()
local raw = redis.call('HGET', K_LEASES, slot)
local released = 0
if raw then
  local lease = cjson.decode(raw)
  if lease.id == id and lease.token == token and lease.expiresAt <= now then
    sweep(now) -- expired: it ends as an expiry, as if the sweep had run first
  elseif lease.id == id and lease.token == token then
    drop_lease(slot, id)
    redis.call('HINCRBY', K_STATS, 'releases', 1)
    publish_event('release', now, { slot = lease.slot, token = lease.token, holder = holder_of(lease) })
    released = 1
  end
end
local grants = {}
local handed_off, epoch_id = promote_waiters(now, grants)
local reply = { released, handed_off, now, epoch_id or '' }
for _, v in ipairs(grants) do reply[#reply + 1] = v end
return reply
