--[[ A waiter gives up (timeout, abort, shutdown). If a slot was handed to it meanwhile, release that slot.
  Input:  KEYS  the 12 state keys
          ARGV[1] default limit   ARGV[2] epoch grace ms   ARGV[3] waiter id
  Output: {1} left the queue | {2} had been granted: released and handed on | {0} unknown ]]
--- @include "state"
local id = ARGV[3]
local now = now_ms()
if redis.call('ZSCORE', K_WAITERS, id) then
  drop_waiter(id)
  return { 1 }
end
local lease = lease_of(id)
if lease then
  drop_lease(lease.slot, id)
  redis.call('HINCRBY', K_STATS, 'releases', 1)
  publish_event('release', now, { slot = lease.slot, token = lease.token, holder = holder_of(lease) })
  promote_waiters(now)
  return { 2 }
end
return { 0 }
