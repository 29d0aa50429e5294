-- renew(step_id, token, ttl_ms) -> 1 if the token still held the lease (now extended), else 0.
local lease = key("lease", arg(1))
if redis.call("GET", lease) ~= arg(2) then return 0 end
redis.call("PEXPIRE", lease, arg(3))
return 1
