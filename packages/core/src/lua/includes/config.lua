-- The config fields of the state hash (MailboxConfig in types.ts), as {field, value, ...}.
local CONFIG_FIELDS = { 'limit', 'ratePerMinute', 'recipientsPerDay', 'paused', 'pauseReason' }

local function config_pairs(key)
  local values = redis.call('HMGET', key, unpack(CONFIG_FIELDS))
  local out = {}
  for i, field in ipairs(CONFIG_FIELDS) do
    if values[i] then
      out[#out + 1] = field
      out[#out + 1] = values[i]
    end
  end
  return out
end
