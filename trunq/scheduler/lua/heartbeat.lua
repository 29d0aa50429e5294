-- heartbeat(worker_id, info_json, ttl_ms): the worker's key lives ttl_ms past its last beat.
local id, info = arg(1), cjson.decode(arg(2))
info.id = id
info.last_heartbeat = NOW / 1000
redis.call("SET", key("worker", id), cjson.encode(info), "PX", arg(3))
redis.call("SADD", key("workers"), id)
return 1
