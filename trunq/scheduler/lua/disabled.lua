-- disabled(step_ids_json) -> one 0/1 per step id; drops expired entries.
redis.call("ZREMRANGEBYSCORE", key("disabled"), "-inf", NOW)
local result = {}
for i, id in ipairs(cjson.decode(arg(1))) do result[i] = is_disabled(id) and 1 or 0 end
return result
