--[[ GCRA: take one message token from a mailbox's shared rate. With burst 1 (the default) tokens
  are spaced exactly 60 000 / perMinute ms apart, so no rolling minute ever holds more than
  perMinute messages (a fixed window would allow 2x across its boundary).
  Input:  KEYS[1] rate (theoretical arrival time, Redis ms)
          ARGV[1] per minute   ARGV[2] burst (tokens that may be taken back to back, >= 1)
  Output: {1, 0} allowed | {0, retryAfterMs} ]]
--- @include "time"
local per_minute, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = now_ms()
local interval = 60000 / per_minute
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allow_at = tat - (burst - 1) * interval
if now < allow_at then return { 0, math.ceil(allow_at - now) } end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return { 1, 0 }
