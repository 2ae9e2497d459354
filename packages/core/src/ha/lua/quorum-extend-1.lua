--[[ Quorum mode: this master's vote on renewing a slot lock.
  Input:  KEYS[1] slot lock  ARGV[1] lock value of the holder  ARGV[2] lease ttl ms
  Output: 1 renewed | 0 the lock is gone or belongs to someone else (a late renewal never revives) ]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
