-- resource_usage() -> JSON {resource: {holder: units}} for live holders (reaps expired units).
local usage = {}
for _, resource in ipairs(redis.call("SMEMBERS", key("resources"))) do
  local res_key = key("res", resource)
  redis.call("ZREMRANGEBYSCORE", res_key, "-inf", NOW)
  local members = redis.call("ZRANGE", res_key, 0, -1)
  if #members == 0 then
    redis.call("SREM", key("resources"), resource)
  else
    local holders = {}
    for _, member in ipairs(members) do
      local holder = string.match(member, "^(.*)#%d+$")
      holders[holder] = (holders[holder] or 0) + 1
    end
    usage[resource] = holders
  end
end
if next(usage) == nil then return "{}" end
return cjson.encode(usage)
