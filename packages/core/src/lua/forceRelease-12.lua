--[[ Operator action: free a slot whatever its holder does. The holder is told at once on its
  client's channel (its lease signal aborts) and fails its next renewal in any case.
  Input:  KEYS  the 12 state keys
          ARGV[1] default limit   ARGV[2] unused (admin scripts never open an epoch)   ARGV[3] slot
  Output: {1, token} freed | {0} the slot was free ]]
--- @include "state"
local slot = ARGV[3]
local now, epoch_id, grace, cfg = begin_admin()
local raw = redis.call('HGET', K_LEASES, slot)
if not raw then return { 0 } end
local lease = cjson.decode(raw)
drop_lease(slot, lease.id)
redis.call('HINCRBY', K_STATS, 'forceReleased', 1)
if lease.channel then
  redis.call('PUBLISH', lease.channel, cjson.encode({ type = 'revoke', mailbox = MAILBOX, id = lease.id, slot = lease.slot }))
end
publish_event('force-release', now, { slot = lease.slot, token = lease.token, holder = holder_of(lease) })
promote_if_epoch(now, cfg, epoch_id, grace)
return { 1, lease.token }
