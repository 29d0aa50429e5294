-- finish(items_json, status, expl, holder): fenced end of one execution or a batch.
-- items = [[step_id, token], ...]; expl/holder "" = none. Returns one 0/1 per item.
local items = cjson.decode(arg(1))
local status, expl, holder = arg(2), arg(3), arg(4)
local results = {}
for i, item in ipairs(items) do
  local id, token = item[1], item[2]
  if lease_is(id, token) then
    redis.call("DEL", key("lease", id), key("cancel", id))
    change_step(id, {status = status, expl = (expl ~= "" and expl) or false, finished = NOW_S})
    emit("status", id, {status = status, expl = (expl ~= "" and expl) or cjson.null, token = token})
    results[i] = 1
  else
    results[i] = 0
  end
end
if holder ~= "" then release_all(holder) end
return results
