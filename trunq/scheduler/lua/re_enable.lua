-- re_enable(step_id): clear DISABLED and the failure count; a DISABLED step becomes FAILED.
local id = arg(1)
redis.call("ZREM", key("disabled"), id)
redis.call("DEL", key("failures", id))
if redis.call("HGET", key("step", id), "status") == S_DISABLED then
  change_step(id, {status = S_FAILED, retries = "0"})
end
return 1
