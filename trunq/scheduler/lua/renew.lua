-- renew(step_id, token, ttl_ms) -> 1 if the token holds the lease (now extended), else 0.
-- A lease that lapsed while its worker was busy is taken back when nobody acquired the
-- step since (the fencing counter is still the token's), the token started the step and
-- the step's worker has a live heartbeat (see lost.lua). A finished step stays free.
local id, token, ttl = arg(1), arg(2), arg(3)
local lease = key("lease", id)
local current = redis.call("GET", lease)
if current == token then
  redis.call("PEXPIRE", lease, ttl)
  return 1
end
if current then return 0 end
if redis.call("GET", key("started", id)) ~= token then return 0 end
local step = redis.call("HMGET", key("step", id), "status", "worker_id")
if step[1] ~= S_RUNNING and step[1] ~= S_BATCH_RUNNING then return 0 end
if not step[2] or redis.call("EXISTS", key("worker", step[2])) == 0 then return 0 end
local fence = string.match(token, ":(%d+)$")
if fence ~= redis.call("GET", key("fence", id)) then return 0 end
redis.call("SET", lease, token, "PX", ttl)
return 1
