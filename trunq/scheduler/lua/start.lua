-- start(step_id, token, worker, pid, worker_id, others_json) -> 1 while the token holds the
-- lease and has not started the step before (a message delivered twice must not run the
-- step twice), else 0. pid/worker_id "" = unknown. others = [[step_id, token], ...]: the
-- other members of a batch, recorded as run by the same worker.
-- Each started member joins the worker's running index (key "running", worker_id).
local id, token = arg(1), arg(2)
if not lease_is(id, token) then return 0 end
local marker = key("started", id)
if redis.call("GET", marker) == token then return 0 end
local worker, pid, worker_id = arg(3), arg(4), arg(5)
local members = {{id, token}}
for _, other in ipairs(cjson.decode(arg(6) ~= "" and arg(6) or "[]")) do table.insert(members, other) end
for _, member in ipairs(members) do
  local mid, mtoken = member[1], member[2]
  if lease_is(mid, mtoken) then
    redis.call("SET", key("started", mid), mtoken, "PX", 7 * 86400000)
    local previous = redis.call("HGET", key("step", mid), "worker_id")
    if previous and previous ~= worker_id then redis.call("SREM", key("running", previous), mid) end
    change_step(mid, {worker = worker, started = NOW_S, finished = false,
                      worker_pid = (pid ~= "" and pid) or false, worker_id = (worker_id ~= "" and worker_id) or false})
    if worker_id ~= "" then redis.call("SADD", key("running", worker_id), mid) end
  end
end
return 1
