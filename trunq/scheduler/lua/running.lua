-- running(worker_id) -> JSON [step_id, ...]: the steps the worker runs now, from its
-- running index (kept by start/finish/lost). Entries that went stale (the step finished,
-- another worker started it) are dropped; a dead worker's index is deleted.
local worker_id = arg(1)
local index = key("running", worker_id)
if redis.call("EXISTS", key("worker", worker_id)) == 0 then
  redis.call("DEL", index)
  return "[]"
end
local running = {}
for _, id in ipairs(redis.call("SMEMBERS", index)) do
  local step = redis.call("HMGET", key("step", id), "status", "worker_id")
  local active = step[1] == S_RUNNING or step[1] == S_BATCH_RUNNING
  if active and step[2] == worker_id then
    table.insert(running, id)
  else
    redis.call("SREM", index, id)
  end
end
if #running == 0 then return "[]" end
table.sort(running)
return cjson.encode(running)
