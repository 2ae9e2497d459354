--[[ A waiter gives up (timeout, abort, shutdown). If a slot was handed to it meanwhile, release that slot.
  Input:  KEYS  the 5 state keys
          ARGV[1..5] slot context   ARGV[6] waiter id
  Output: dequeued {1}
          released {2}
          unknown {0}
  released: it had been granted meanwhile; the slot was released and handed on. ]]
--- @include "slot-state"
--- @include "waiters"
local id = ARGV[6]
local s = load_state()
local now = now_ms()
if s.waiting > 0 and redis.call('ZSCORE', K_WAITERS, id) then
  drop_waiter(s, id)
  save(s)
  return { 1 }
end
local _, i = lease_by_id(s, id)
if i then
  release_lease(s, i, now)
  promote_waiters(s, now)
  save(s)
  return { 2 }
end
return { 0 }
