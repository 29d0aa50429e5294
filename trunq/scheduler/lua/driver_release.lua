-- Give up a build's driver lease, only for the driver that still holds it.
-- KEYS[1] the driver key; ARGV[1] the driver id.
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
