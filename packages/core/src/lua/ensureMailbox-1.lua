--[[ Fill in missing config fields of a mailbox; never overwrites what is there.
  Input:  KEYS[1] state hash   ARGV[1] defaults JSON {limit, ratePerMinute, recipientsPerDay}
  Output: config {...config}
          ...config {field, value}
  config: the whole config, one group per field that is set. ]]
--- @include "config"
local defaults = cjson.decode(ARGV[1])
for _, field in ipairs({ 'limit', 'ratePerMinute', 'recipientsPerDay' }) do
  if defaults[field] then redis.call('HSETNX', KEYS[1], field, defaults[field]) end
end
redis.call('HSETNX', KEYS[1], 'paused', '0')
return config_pairs(KEYS[1])
