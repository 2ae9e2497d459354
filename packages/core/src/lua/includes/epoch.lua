-- The epoch names the Redis process whose memory holds this state (invariant 5). When it is
-- missing (restart without data) or was written by another process (restore from disk,
-- failover), holders from before can still think they hold leases: no grant until they must
-- have given up.
--
-- Which process runs the script comes from INFO, unless the caller claims a run id (ARGV[5])
-- equal to the stored one. A caller claims only a run id it read on the very connection that
-- carries the script, and never on one that could re-send the script elsewhere (RunIdClaim in
-- slots/run-id-claim.ts), so a matching claim proves the same process wrote the state. Any
-- other claim is ignored and INFO decides, as it did for every call before claims existed.
local function server_run(info)
  return string.match(info or redis.call('INFO', 'server'), 'run_id:(%x+)')
end

-- The current epoch id and grace end; opens a new epoch (with its grace) when the state was
-- written by another process or nothing of it survived.
local function current_epoch(s, now)
  if RUN_CLAIM ~= '' and RUN_CLAIM == s.run then return s.epoch, s.grace end
  local info = redis.call('INFO', 'server')
  local run = server_run(info)
  if s.run == run then return s.epoch, s.grace end
  local grace
  if not s.run then
    -- Nothing of this mailbox survived: old leases ended at the latest GRACE_MS after this
    -- process started. A fresh mailbox on a long-running Redis gets no grace at all.
    local uptime = tonumber(string.match(info, 'uptime_in_seconds:(%d+)')) or 0
    -- uptime is the difference of two whole-second clocks: up to 1 s more than the truth.
    grace = now - uptime * 1000 + GRACE_MS + 1000
    -- Unless this Redis is a promoted replica (master_replid2 is set from the promotion until
    -- the backlog is freed): replication is asynchronous, so the mailbox may have lived only on
    -- the old primary, with holders that are still connected.
    local replid2 = string.match(redis.call('INFO', 'replication'), 'master_replid2:(%x+)')
    if replid2 and string.find(replid2, '[^0]') then grace = now + GRACE_MS end
  else
    grace = now + GRACE_MS
  end
  -- Fencing tokens stay monotonic across the data loss: restart the counter at the clock.
  if s.fence < now then s.fence = now end
  s.fence = s.fence + 1
  -- Named by a fencing number, so it differs from every earlier epoch id even within one ms.
  s.run, s.epoch, s.grace = run, run .. '-' .. s.fence, grace
  touch(s, 'fence', 'run', 'epoch', 'grace')
  return s.epoch, s.grace
end

-- Operator scripts never open an epoch (they do not know the holders' lease TTL): without a
-- current epoch they do not promote; the next client call opens it with the right grace.
local function admin_epoch(s)
  if s.run ~= server_run() then return nil, nil end
  return s.epoch, s.grace
end
