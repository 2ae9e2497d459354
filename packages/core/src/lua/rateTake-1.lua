--[[ GCRA: take one message token from a mailbox's shared rate. With burst 1 (the default) tokens
  are spaced exactly 60 000 / perMinute ms apart, so no rolling minute ever holds more than
  perMinute messages (a fixed window would allow 2x across its boundary).
  Input:  KEYS[1] rate (theoretical arrival time, Redis ms)
          ARGV[1] per minute   ARGV[2] burst (tokens that may be taken back to back, >= 1)
  Output: allowed {1, retryAfterMs}
          notNow {0, retryAfterMs}
  retryAfterMs is 0 when allowed. ]]
--- @include "time"
--- @include "gcra"
local per_minute, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = now_ms()
local wait, tat = gcra_wait(KEYS[1], per_minute, burst, now)
if wait > 0 then return { 0, wait } end
gcra_take(KEYS[1], per_minute, tat, now)
return { 1, 0 }
