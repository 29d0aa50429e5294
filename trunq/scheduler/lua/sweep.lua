-- sweep(cutoff_ms, limit) -> {removed, looked_at}: forget the steps not updated since cutoff
-- (the oldest first, from idx:all, so no scan of every step), with each per-step key, their
-- index entries and counts, and their place in their dependencies' "dependents" sets (a
-- step's own "dependents" set belongs to the steps listed there: it empties as they go).
-- Steps whose lease is held, whose live worker still runs them, or still disabled, stay.
local cutoff, limit = arg(1), tonumber(arg(2))
local ids = redis.call("ZRANGEBYSCORE", key("idx", "all"), "-inf", cutoff, "LIMIT", 0, limit)
local removed = 0
for _, id in ipairs(ids) do
  local step = key("step", id)
  if redis.call("EXISTS", key("lease", id)) == 0 and not kept_by_live_worker(id, nil)
      and not is_disabled(id) then
    local old = redis.call("HMGET", step, "status", "family", "deps", "worker_id")
    local status, family = old[1], old[2]
    if status and family then
      redis.call("ZREM", key("idx", "status", status), id)
      redis.call("ZREM", key("idx", "fs", status, family), id)
      redis.call("ZREM", key("idx", "family", family), id)
      bump(key("count", "status"), status, -1)
      bump(key("count", "fs", family), status, -1)
      bump(key("count", "family"), family, -1)
    end
    for _, dep in ipairs(cjson.decode(old[3] or "[]")) do
      redis.call("SREM", key("dependents", dep), id)
    end
    if old[4] then redis.call("SREM", key("running", old[4]), id) end
    redis.call("ZREM", key("idx", "all"), id)
    redis.call("ZREM", key("disabled"), id)
    redis.call("DEL", step, key("fence", id), key("started", id), key("failures", id),
               key("inbox", id), key("responses", id), key("said", id),
               key("cancel", id))
    removed = removed + 1
  end
end
return {removed, #ids}
