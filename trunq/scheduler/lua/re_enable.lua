-- re_enable(step_id, from, to): clear the disabling and the failure count; a step whose
-- status is ``from`` gets ``to`` (scheduler/status_rules.py ON_RE_ENABLE).
local id, from, to = arg(1), arg(2), arg(3)
redis.call("ZREM", key("disabled"), id)
redis.call("DEL", key("failures", id))
if redis.call("HGET", key("step", id), "status") == from then
  change_step(id, {status = to, retries = "0"})
end
return 1
