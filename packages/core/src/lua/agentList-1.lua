--[[ All agent heartbeats with the current Redis time, to judge liveness.
  Input:  KEYS[1] agents hash
  Output: agents {now, ...agents}
          ...agents {id, record}
  record: the heartbeat JSON. ]]
--- @include "time"
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, now_ms())
return out
