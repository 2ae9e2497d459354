--[[ Release a lease (owner-checked, idempotent) and hand free slots to the head waiters in the same step.
  Input:  KEYS  the 5 state keys
          ARGV[1..5] slot context   ARGV[6] lease id   ARGV[7] slot   ARGV[8] fencing token
  Output: done {released, handedOff, now, epoch, ...grants}
          ...grants {waiterId, slot, token, expiresAt, ticket}
  released is 1 when this call released the lease, 0 when it was not the holder (already
  released, expired, revoked). One grants group per waiter served (also pushed to its client; a
  client that holds the waiter itself uses the reply and skips the push). epoch is '' when
  nobody was served. With nobody queued a release is TIME, one HMGET, one HSET and the release
  event. ]]
--- @include "slot-state"
--- @include "waiters"
local id, slot, token = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local s = load_state()
local now = now_ms()
local lease, i = lease_at(s, slot)
local released = 0
if lease and lease.id == id and lease.token == token then
  if lease.expiresAt <= now then
    sweep_leases(s, now) -- expired: it ends as an expiry, as if the sweep had run first
  else
    release_lease(s, i, now)
    released = 1
  end
end
local grants = {}
local handed_off, epoch_id = promote_waiters(s, now, grants)
save(s)
local reply = { released, handed_off, now, epoch_id or '' }
for _, v in ipairs(grants) do reply[#reply + 1] = v end
return reply
