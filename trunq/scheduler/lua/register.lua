-- register(records_json, rule_json): upsert steps. records = [{step_id=..., fields={name=value}}]
-- rule = scheduler/status_rules.py ON_REGISTER: the status by case (leased, disabled,
-- other); "" keeps the current status. live = the fields a new registration clears
-- (LIVE_FIELDS: the progress of a run that is over). The record is updated in place, so
-- what the last run left (started, finished, worker, expl, ...) stays for the UI.
-- A step whose lease lapsed while its live worker still runs it counts as leased.
-- The reverse index (key "dependents", dep) follows the deps of each record.
local function index_dependents(id, old_deps_json, new_deps_json)
  local new_deps = cjson.decode(new_deps_json or "[]")
  local keep = {}
  for _, dep in ipairs(new_deps) do
    keep[dep] = true
    redis.call("SADD", key("dependents", dep), id)
  end
  if old_deps_json then
    for _, dep in ipairs(cjson.decode(old_deps_json)) do
      if not keep[dep] then redis.call("SREM", key("dependents", dep), id) end
    end
  end
end

local records = cjson.decode(arg(1))
local rule = cjson.decode(arg(2))
local live = cjson.decode(arg(3))
for _, record in ipairs(records) do
  local id = record.step_id
  local step = key("step", id)
  local old = redis.call("HMGET", step, "status", "family", "retries", "deps")
  local case = "other"
  if old[1] and (redis.call("EXISTS", key("lease", id)) == 1 or kept_by_live_worker(id, nil)) then
    case = "leased"
  elseif is_disabled(id) then case = "disabled" end
  local status = rule[case]
  if status == "" then status = old[1] or rule.other end
  local fields = {"status", status, "retries", old[3] or record.fields.retries or "0", "updated", NOW_S}
  for name, value in pairs(record.fields) do
    if name ~= "status" and name ~= "retries" and name ~= "updated" then
      table.insert(fields, name); table.insert(fields, value)
    end
  end
  index_dependents(id, old[4], record.fields.deps)
  redis.call("HSET", step, unpack(fields))
  if case ~= "leased" then
    for _, name in ipairs(live) do
      if record.fields[name] == nil then redis.call("HDEL", step, name) end
    end
  end
  reindex(id, old[1], old[2], status, record.fields.family)
end
return #records
