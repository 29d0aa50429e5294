-- renew_resources(holder, ttl_ms): extend the holder's live units; expired ones stay lost.
local holder, ttl = arg(1), tonumber(arg(2))
local expiry = NOW + ttl
for _, resource in ipairs(redis.call("HKEYS", key("held", holder))) do
  local res_key = key("res", resource)
  redis.call("ZREMRANGEBYSCORE", res_key, "-inf", NOW)
  for u = 0, units_of(res_key, holder) - 1 do
    redis.call("ZADD", res_key, "XX", expiry, holder .. "#" .. u)
  end
end
redis.call("PEXPIRE", key("held", holder), ttl)
redis.call("PEXPIRE", key("holder", holder), ttl)
return 1
