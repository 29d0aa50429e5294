-- acquire(step_id, owner, ttl_ms, status) -> token "<owner>:<fence>" or nil when leased.
-- A lease that lapsed while a live worker runs the step still counts as held (renew.lua
-- takes it back): the step's execution belongs to that worker until its heartbeat expires.
local id = arg(1)
local lease = key("lease", id)
if redis.call("EXISTS", lease) == 1 then return false end
local started = redis.call("GET", key("started", id))
if started and string.match(started, ":(%d+)$") == redis.call("GET", key("fence", id)) then
  local step = redis.call("HMGET", key("step", id), "status", "worker_id")
  if (step[1] == S_RUNNING or step[1] == S_BATCH_RUNNING) and step[2]
      and redis.call("EXISTS", key("worker", step[2])) == 1 then
    return false
  end
end
local token = arg(2) .. ":" .. redis.call("INCR", key("fence", id))
redis.call("SET", lease, token, "PX", arg(3))
change_step(id, {status = arg(4)})
return token
