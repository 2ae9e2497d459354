--[[ Change a mailbox's config at runtime. Lowering the limit never revokes a lease (new grants
  wait until in-use < limit); raising it or resuming serves waiters at once. Pausing turns the
  current waiters away (their acquire fails with MAILBOX_PAUSED).
  Input:  KEYS  the 12 state keys
          ARGV[1] default limit   ARGV[2] unused (admin scripts never open an epoch)
          ARGV[3] patch JSON {limit?, ratePerMinute?, recipientsPerDay?, paused?, pauseReason?}
  Output: {1, field, value, ...} the whole config hash after the change ]]
--- @include "state"
local patch = cjson.decode(ARGV[3])
local now, epoch_id, grace, before = begin_admin()
for _, field in ipairs({ 'limit', 'ratePerMinute', 'recipientsPerDay' }) do
  if patch[field] then redis.call('HSET', K_CONFIG, field, patch[field]) end
end
if redis.call('HEXISTS', K_CONFIG, 'limit') == 0 then redis.call('HSET', K_CONFIG, 'limit', DEFAULT_LIMIT) end
local kind = 'config'
if patch.paused == true then
  redis.call('HSET', K_CONFIG, 'paused', '1', 'pauseReason', patch.pauseReason or '')
  if not before.paused then kind = 'pause' end
  local ids = redis.call('ZRANGE', K_WAITERS, 0, -1)
  for _, id in ipairs(ids) do
    local raw = redis.call('HGET', K_WINFO, id)
    drop_waiter(id)
    if raw then
      redis.call('PUBLISH', cjson.decode(raw).channel,
        cjson.encode({ type = 'paused', mailbox = MAILBOX, id = id, reason = patch.pauseReason or '' }))
    end
  end
elseif patch.paused == false then
  redis.call('HSET', K_CONFIG, 'paused', '0')
  redis.call('HDEL', K_CONFIG, 'pauseReason')
  if before.paused then kind = 'resume' end
end
local cfg = load_config()
publish_event(kind, now, { limit = cfg.limit, reason = patch.pauseReason })
promote_if_epoch(now, cfg, epoch_id, grace)
local out = redis.call('HGETALL', K_CONFIG)
table.insert(out, 1, 1)
return out
