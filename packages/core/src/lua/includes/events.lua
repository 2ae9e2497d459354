-- Slot events on the events channel (ARGV[2]), read by the coordinator (SSE, metrics).
local function holder_of(r)
  return { agentId = r.agentId, host = r.host, pid = r.pid, worker = r.worker }
end

local function publish_event(kind, now, fields)
  fields.type = kind
  fields.mailbox = MAILBOX
  fields.at = now
  redis.call('PUBLISH', EVENTS, cjson.encode(fields))
end
