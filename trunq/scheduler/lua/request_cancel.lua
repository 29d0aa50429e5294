-- request_cancel(step_id, requested_by, flag_ttl_ms) -> 1 when an execution holds the lease
-- (its token is flagged and a "cancel" event logged), else 0. A live worker's execution
-- whose lease lapsed (kept_by_live_worker) still holds it.
local id = arg(1)
local token = redis.call("GET", key("lease", id))
if not token and kept_by_live_worker(id, nil) then token = redis.call("GET", key("started", id)) end
if not token then return 0 end
redis.call("SET", key("cancel", id), token, "PX", arg(3))
emit("cancel", id, {requested_by = arg(2)})
return 1
