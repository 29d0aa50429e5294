-- start(step_id, token, worker) -> 1 while the token holds the lease and has not started
-- the step before (a message delivered twice must not run the step twice), else 0.
local id, token = arg(1), arg(2)
if not lease_is(id, token) then return 0 end
local marker = key("started", id)
if redis.call("GET", marker) == token then return 0 end
redis.call("SET", marker, token, "PX", 7 * 86400000)
change_step(id, {worker = arg(3), started = NOW_S})
return 1
