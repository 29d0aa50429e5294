-- Prelude prepended to every trunq script (see redis_store._script).
-- Header arguments: ARGV[1] = now in ms ("" = use the Redis clock), ARGV[2] = key prefix
-- ("{trunq}"), ARGV[3] = events stream MAXLEN. A script's own arguments are arg(1), arg(2), ...
-- KEYS[1] is the events stream: it routes the call to the namespace's cluster slot.
local PREFIX = ARGV[2]
local EVENTS_MAXLEN = ARGV[3]

local function clock_ms()
  if ARGV[1] ~= "" then return tonumber(ARGV[1]) end
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local NOW = clock_ms()
local NOW_S = string.format("%.3f", NOW / 1000)

local function arg(i) return ARGV[3 + i] end

-- key("step", id) -> "{trunq}:step:<id>"; mirrors trunq/scheduler/keys.py
local function key(...) return PREFIX .. ":" .. table.concat({...}, ":") end

-- data_json is passed through untouched (cjson would turn an empty list into {}).
local function emit_json(kind, step_id, data_json)
  return redis.call("XADD", key("events"), "MAXLEN", "~", EVENTS_MAXLEN, "*",
                    "kind", kind, "step", step_id, "data", data_json)
end
local function emit(kind, step_id, data) return emit_json(kind, step_id, cjson.encode(data)) end

local function bump(hash, field, by)
  if redis.call("HINCRBY", hash, field, by) <= 0 then redis.call("HDEL", hash, field) end
end

-- Keep the UI read model (indexes and counters, keys.py) in step with one record change.
-- old_status is false for a new record.
local function reindex(id, old_status, old_family, status, family)
  if not old_status then
    bump(key("count", "status"), status, 1)
    bump(key("count", "fs", family), status, 1)
    bump(key("count", "family"), family, 1)
  elseif old_status ~= status or old_family ~= family then
    redis.call("ZREM", key("idx", "status", old_status), id)
    redis.call("ZREM", key("idx", "fs", old_status, old_family), id)
    bump(key("count", "status"), old_status, -1)
    bump(key("count", "fs", old_family), old_status, -1)
    bump(key("count", "status"), status, 1)
    bump(key("count", "fs", family), status, 1)
    if old_family ~= family then
      redis.call("ZREM", key("idx", "family", old_family), id)
      bump(key("count", "family"), old_family, -1)
      bump(key("count", "family"), family, 1)
    end
  end
  redis.call("ZADD", key("idx", "all"), NOW, id)
  redis.call("ZADD", key("idx", "status", status), NOW, id)
  redis.call("ZADD", key("idx", "family", family), NOW, id)
  redis.call("ZADD", key("idx", "fs", status, family), NOW, id)
end

-- Set a step's fields (name -> value; value false = delete the field), stamp it and reindex.
-- Returns false when the step has no record.
local function change_step(id, fields)
  local step = key("step", id)
  local old = redis.call("HMGET", step, "status", "family")
  if not old[1] then return false end
  local sets, dels = {}, {}
  for name, value in pairs(fields) do
    if value == false then table.insert(dels, name) else
      table.insert(sets, name); table.insert(sets, value)
    end
  end
  table.insert(sets, "updated"); table.insert(sets, NOW_S)
  redis.call("HSET", step, unpack(sets))
  if #dels > 0 then redis.call("HDEL", step, unpack(dels)) end
  reindex(id, old[1], old[2], fields.status or old[1], fields.family or old[2])
  return true
end

local function lease_is(id, token)
  return redis.call("GET", key("lease", id)) == token
end

-- The execution of token (nil: any) is still the step's current one: started under its own
-- fence, still running, and no lease taken since (lost.lua drops the start marker of an
-- execution it gives up). Returns true and the worker id recorded at its start.
local function current_execution(id, token)
  if redis.call("EXISTS", key("lease", id)) == 1 then return false end
  local started = redis.call("GET", key("started", id))
  if not started or (token and started ~= token) then return false end
  if string.match(started, ":(%d+)$") ~= redis.call("GET", key("fence", id)) then return false end
  local step = redis.call("HMGET", key("step", id), "status", "worker_id")
  if step[1] ~= S_RUNNING and step[1] ~= S_BATCH_RUNNING then return false end
  return true, step[2]
end

-- A lease that lapsed while the worker that started the step is alive still belongs to that
-- execution (a busy worker renewed late; see lost.lua): its current execution, and its
-- worker's heartbeat is live.
local function kept_by_live_worker(id, token)
  local current, worker_id = current_execution(id, token)
  return current and worker_id and redis.call("EXISTS", key("worker", worker_id)) == 1
end

local function is_disabled(id)
  local until_ms = redis.call("ZSCORE", key("disabled"), id)
  return until_ms and tonumber(until_ms) > NOW
end

-- Number of units a holder has on a resource: its members are "<holder>#0" .. "#n-1".
local function units_of(res_key, holder)
  local n = 0
  while redis.call("ZSCORE", res_key, holder .. "#" .. n) do n = n + 1 end
  return n
end

local function release_units(holder, resource, amount)
  local res_key = key("res", resource)
  local have = units_of(res_key, holder)
  local left = math.max(have - amount, 0)
  for u = left, have - 1 do redis.call("ZREM", res_key, holder .. "#" .. u) end
  if left > 0 then redis.call("HSET", key("held", holder), resource, left)
  else redis.call("HDEL", key("held", holder), resource) end
end

local function release_all(holder)
  local held = redis.call("HKEYS", key("held", holder))
  for _, resource in ipairs(held) do release_units(holder, resource, math.huge) end
  redis.call("DEL", key("held", holder), key("holder", holder))
end
