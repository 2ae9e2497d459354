--[[ Gives back recipients that rcptReserve-2 counted but the upstream never accepted (refused at
  RCPT, connection failed, message rejected): they leave the bucket they were counted in. Only
  what that bucket still holds is taken off, so a bucket that already left the window (or was
  lost with Redis' data) never makes the count go below what was really sent.
  Input:  KEYS[1] bucket zset   KEYS[2] counts hash (bucket → n, total)
          ARGV[1] bucket (the 4th value of rcptReserve's reply)   ARGV[2] recipients to give back
  Output: returned {returned, used} ]]
local bucket, n = ARGV[1], tonumber(ARGV[2])
local counted = tonumber(redis.call('HGET', KEYS[2], bucket) or '0')
local returned = math.min(counted, n)
if returned > 0 then
  if returned == counted then
    redis.call('HDEL', KEYS[2], bucket)
    redis.call('ZREM', KEYS[1], bucket)
  else
    redis.call('HINCRBY', KEYS[2], bucket, -returned)
  end
  redis.call('HINCRBY', KEYS[2], 'total', -returned)
end
return { returned, tonumber(redis.call('HGET', KEYS[2], 'total') or '0') }
