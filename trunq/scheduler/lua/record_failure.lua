-- record_failure(step_id, window_ms) -> failures within the window, this one included.
local id, window = arg(1), tonumber(arg(2))
local failures = key("failures", id)
redis.call("ZREMRANGEBYSCORE", failures, "-inf", NOW - window)
redis.call("ZADD", failures, NOW, NOW .. "-" .. redis.call("INCR", key("seq", "failures")))
redis.call("PEXPIRE", failures, math.max(math.ceil(window), 1))
local count = redis.call("ZCARD", failures)
if redis.call("EXISTS", key("step", id)) == 1 then redis.call("HSET", key("step", id), "retries", count) end
return count
