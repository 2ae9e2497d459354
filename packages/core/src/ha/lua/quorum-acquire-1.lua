--[[ Quorum mode: this master's vote on a redlock acquire of one slot.
  Input:  KEYS[1] slot lock (ss:{<mailbox>}:qslot:<n>)
          ARGV[1] lock value (random per grant)  ARGV[2] lease ttl ms
  Output: 1 vote for (the lock is set with PX ttl) | 0 vote against (held, or this master abstains)
  A master that started less than one TTL ago abstains: if it restarted without its data it may
  have forgotten locks it granted, and voting now could give the same slot to a second holder
  ("delayed restart" from the Redlock analysis, enforced by the server instead of by operators). ]]
local uptime = tonumber(string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)')) or 0
-- uptime is the difference of two whole-second clocks: it can exceed the truth by up to 1 s.
if (uptime - 1) * 1000 < tonumber(ARGV[2]) then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
