-- acquire_resources(holder, ttl_ms, wants_json, limits_json, steps_json) -> 1, or 0 and
-- nothing taken. steps ("" = none): the ids of the steps the holder takes the units for,
-- kept under key("holder", holder) until the holder releases everything.
-- One ZSET per resource, one member per unit, score = expiry; expired members are reaped
-- first, so a crashed holder's units come back. A resource missing from limits has capacity 1.
local holder, ttl = arg(1), tonumber(arg(2))
local wants, limits = cjson.decode(arg(3)), cjson.decode(arg(4))
for resource, amount in pairs(wants) do
  local res_key = key("res", resource)
  redis.call("ZREMRANGEBYSCORE", res_key, "-inf", NOW)
  local others = redis.call("ZCARD", res_key) - units_of(res_key, holder)
  if others + amount > (tonumber(limits[resource]) or 1) then return 0 end
end
local expiry = NOW + ttl
for resource, amount in pairs(wants) do
  if amount > 0 then
    local res_key = key("res", resource)
    release_units(holder, resource, math.huge)
    for u = 0, amount - 1 do redis.call("ZADD", res_key, expiry, holder .. "#" .. u) end
    redis.call("HSET", key("held", holder), resource, amount)
    redis.call("SADD", key("resources"), resource)
  end
end
local steps = arg(5) or ""
if steps ~= "" and steps ~= "[]" then
  redis.call("SET", key("holder", holder), steps, "PX", ttl)
end
-- The release list and step list live as long as the units (renew_resources extends them).
redis.call("PEXPIRE", key("held", holder), ttl)
return 1
