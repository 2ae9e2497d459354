--[[ Quorum mode: release a slot lock on this master, owner-checked and idempotent.
  Input:  KEYS[1] slot lock  ARGV[1] lock value of the holder
  Output: 1 always (a lock that is gone or foreign needs no release; redlock counts it as done) ]]
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
