-- acquire(step_id, owner, ttl_ms, status) -> token "<owner>:<fence>" or nil when leased.
-- A lease that lapsed while a live worker runs the step still counts as held.
local id = arg(1)
local lease = key("lease", id)
if redis.call("EXISTS", lease) == 1 or kept_by_live_worker(id, nil) then return false end
local token = arg(2) .. ":" .. redis.call("INCR", key("fence", id))
redis.call("SET", lease, token, "PX", arg(3))
change_step(id, {status = arg(4)})
return token
