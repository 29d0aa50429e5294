-- lost(items_json) -> one 0/1 per [step_id, token]: 1 when that execution is lost.
-- Started executions follow their worker's heartbeat (key "worker", worker_id), not the
-- lease: a live worker keeps (or takes back, see renew.lua) its lease however long the
-- step runs; a dead worker's execution is lost at once, its lease and start marker
-- dropped so a late write of the dead execution is refused. Executions not started yet
-- (queued) are lost when their lease lapsed or moved on; so are those of unknown workers.
local function worker_alive(id)
  local worker_id = redis.call("HGET", key("step", id), "worker_id")
  if not worker_id then return nil, nil end
  return redis.call("EXISTS", key("worker", worker_id)) == 1, worker_id
end

local results = {}
for i, item in ipairs(cjson.decode(arg(1))) do
  local id, token = item[1], item[2]
  local current = redis.call("GET", key("lease", id))
  local started = redis.call("GET", key("started", id)) == token
  local alive, worker_id = nil, nil
  if started then alive, worker_id = worker_alive(id) end
  local lost
  if current == token then lost = started and alive == false
  elseif current then lost = true
  else lost = not kept_by_live_worker(id, token) end
  if lost then
    if current == token then redis.call("DEL", key("lease", id)) end
    if started then redis.call("DEL", key("started", id)) end
    if worker_id then redis.call("SREM", key("running", worker_id), id) end
  end
  results[i] = lost and 1 or 0
end
return results
