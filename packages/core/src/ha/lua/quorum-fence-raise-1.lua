--[[ Quorum mode: second phase of a fencing token. After INCR on every master, the holder takes the
  maximum a majority answered and writes it back here, so that any later majority sees at least it.
  Input:  KEYS[1] fence counter  ARGV[1] token
  Output: the counter after raising it to at least ARGV[1] ]]
local token = tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') < token then redis.call('SET', KEYS[1], token) end
return tonumber(redis.call('GET', KEYS[1]))
