-- Extend a build's driver lease, only for the driver that still holds it.
-- KEYS[1] the driver key; ARGV[1] the driver id, ARGV[2] the new lifetime in ms.
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
