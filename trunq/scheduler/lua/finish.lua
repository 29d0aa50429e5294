-- finish(items_json, status, expl, holder): fenced end of one execution or a batch.
-- items = [[step_id, token], ...]; expl/holder "" = none. Returns one 0/1 per item.
-- A lease that lapsed still counts while nothing took the step over (current_execution):
-- the finish comes from the execution itself, even when its worker's heartbeat key lapsed
-- meanwhile (a Redis frozen for longer than the heartbeat's TTL expires it on resume).
-- The status event names the worker that ran the step and how long it ran (seconds).
local items = cjson.decode(arg(1))
local status, expl, holder = arg(2), arg(3), arg(4)
local results = {}
for i, item in ipairs(items) do
  local id, token = item[1], item[2]
  if lease_is(id, token) or current_execution(id, token) then
    redis.call("DEL", key("lease", id), key("cancel", id))
    local ran = redis.call("HMGET", key("step", id), "worker", "started", "worker_id")
    if ran[3] then redis.call("SREM", key("running", ran[3]), id) end
    change_step(id, {status = status, expl = (expl ~= "" and expl) or false, finished = NOW_S})
    local event = {status = status, expl = (expl ~= "" and expl) or cjson.null, token = token}
    if ran[1] and redis.call("GET", key("started", id)) == token then
      event.worker = ran[1]
      if ran[2] then event.duration = math.max(NOW / 1000 - tonumber(ran[2]), 0) end
    end
    emit("status", id, event)
    results[i] = 1
  else
    results[i] = 0
  end
end
if holder ~= "" then release_all(holder) end
return results
