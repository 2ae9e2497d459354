--[[ Fill in missing config fields of a mailbox; never overwrites what is there.
  Input:  KEYS[1] config   ARGV[1] defaults JSON {limit, ratePerMinute, recipientsPerDay}
  Output: {field, value, ...} the whole config hash ]]
local defaults = cjson.decode(ARGV[1])
for _, field in ipairs({ 'limit', 'ratePerMinute', 'recipientsPerDay' }) do
  if defaults[field] then redis.call('HSETNX', KEYS[1], field, defaults[field]) end
end
redis.call('HSETNX', KEYS[1], 'paused', '0')
return redis.call('HGETALL', KEYS[1])
