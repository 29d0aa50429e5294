-- renew(step_id, token, ttl_ms) -> 1 if the token holds the lease (now extended), else 0.
-- A lease that lapsed while its live worker was busy is taken back (kept_by_live_worker).
local id, token, ttl = arg(1), arg(2), arg(3)
local lease = key("lease", id)
if lease_is(id, token) then
  redis.call("PEXPIRE", lease, ttl)
  return 1
end
if not kept_by_live_worker(id, token) then return 0 end
redis.call("SET", lease, token, "PX", ttl)
return 1
