--[[ Change a mailbox's config at runtime. Lowering the limit never revokes a lease (new grants
  wait until in-use < limit); raising it or resuming serves waiters at once. Pausing turns the
  current waiters away (their acquire fails with MAILBOX_PAUSED).
  Input:  KEYS  the 5 state keys
          ARGV[1..5] slot context (grace and run id claim unused: operator scripts never open
          an epoch)   ARGV[6] patch JSON {limit?, ratePerMinute?, recipientsPerDay?, paused?, pauseReason?}
  Output: changed {1, ...config}
          ...config {field, value}
  config: the whole config after the change, one group per field that is set. ]]
--- @include "slot-state"
--- @include "waiters"
--- @include "config"
local patch = cjson.decode(ARGV[6])
local s = load_state()
local now = now_ms()
local epoch_id, grace = admin_epoch(s)
sweep_leases(s, now)
sweep_waiters(s, now)
local was_paused = s.paused
for _, field in ipairs({ 'limit', 'ratePerMinute', 'recipientsPerDay' }) do
  if patch[field] then redis.call('HSET', K_STATE, field, patch[field]) end
end
if patch.limit then s.limit = tonumber(patch.limit) end
if redis.call('HEXISTS', K_STATE, 'limit') == 0 then redis.call('HSET', K_STATE, 'limit', DEFAULT_LIMIT) end
local kind = 'config'
if patch.paused == true then
  redis.call('HSET', K_STATE, 'paused', '1', 'pauseReason', patch.pauseReason or '')
  s.paused = true
  if not was_paused then kind = 'pause' end
  for _, id in ipairs(redis.call('ZRANGE', K_WAITERS, 0, -1)) do
    local raw = redis.call('HGET', K_WINFO, id)
    drop_waiter(s, id)
    if raw then
      redis.call('PUBLISH', cjson.decode(raw).channel,
        cjson.encode({ type = 'paused', mailbox = MAILBOX, id = id, reason = patch.pauseReason or '' }))
    end
  end
elseif patch.paused == false then
  redis.call('HSET', K_STATE, 'paused', '0')
  redis.call('HDEL', K_STATE, 'pauseReason')
  s.paused = false
  if was_paused then kind = 'resume' end
end
publish_event(kind, now, { limit = s.limit, reason = patch.pauseReason })
promote_if_epoch(s, now, epoch_id, grace)
save(s)
local out = config_pairs(K_STATE)
table.insert(out, 1, 1)
return out
