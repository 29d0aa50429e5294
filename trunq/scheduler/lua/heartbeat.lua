-- heartbeat(worker_id, info_json, ttl_ms): the worker's hash lives ttl_ms past its last beat.
local id = arg(1)
local worker = key("worker", id)
redis.call("HSET", worker, "info", arg(2), "last_heartbeat", NOW_S)
redis.call("PEXPIRE", worker, arg(3))
redis.call("SADD", key("workers"), id)
return 1
