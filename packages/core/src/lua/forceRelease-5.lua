--[[ Operator action: free a slot whatever its holder does. The holder is told at once on its
  client's channel (its lease signal aborts) and fails its next renewal in any case.
  Input:  KEYS  the 5 state keys
          ARGV[1..5] slot context (grace and run id claim unused: operator scripts never open
          an epoch)   ARGV[6] slot
  Output: freed {1, token}
          free {0} ]]
--- @include "slot-state"
--- @include "waiters"
local slot = tonumber(ARGV[6])
local s = load_state()
local now = now_ms()
local epoch_id, grace = admin_epoch(s)
sweep_leases(s, now)
sweep_waiters(s, now)
local lease, i = lease_at(s, slot)
if not lease then save(s) return { 0 } end
remove_lease(s, i)
redis.call('HINCRBY', K_STATS, 'forceReleased', 1)
if lease.channel then
  redis.call('PUBLISH', lease.channel, cjson.encode({ type = 'revoke', mailbox = MAILBOX, id = lease.id, slot = lease.slot }))
end
publish_event('force-release', now, { slot = lease.slot, token = lease.token, holder = holder_of(lease) })
promote_if_epoch(s, now, epoch_id, grace)
save(s)
return { 1, lease.token }
