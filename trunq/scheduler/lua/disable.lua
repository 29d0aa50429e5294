-- disable(step_id, ms): DISABLED until now + ms, with a status event.
local id = arg(1)
redis.call("ZADD", key("disabled"), NOW + tonumber(arg(2)), id)
change_step(id, {status = S_DISABLED})
return emit("status", id, {status = S_DISABLED})
