-- renew_resources(holder, ttl_ms): extend the holder's live units; expired ones stay lost.
local holder, expiry = arg(1), NOW + tonumber(arg(2))
for _, resource in ipairs(redis.call("HKEYS", key("held", holder))) do
  local res_key = key("res", resource)
  redis.call("ZREMRANGEBYSCORE", res_key, "-inf", NOW)
  for u = 0, units_of(res_key, holder) - 1 do
    redis.call("ZADD", res_key, "XX", expiry, holder .. "#" .. u)
  end
end
return 1
