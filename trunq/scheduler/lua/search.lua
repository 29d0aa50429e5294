-- search(index_key, needle, offset, limit, max_scan, direction) -> {total, id...}
-- Case-insensitive substring match on step ids, newest first (direction "asc": oldest
-- first), scanning at most max_scan ids.
local index, needle = arg(1), string.lower(arg(2))
local offset, limit, max_scan = tonumber(arg(3)), tonumber(arg(4)), tonumber(arg(5))
local range = (arg(6) == "asc") and "ZRANGE" or "ZREVRANGE"
local total, page, start = 0, {}, 0
while start < max_scan do
  local ids = redis.call(range, index, start, math.min(start + 999, max_scan - 1))
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if string.find(string.lower(id), needle, 1, true) then
      if total >= offset and #page < limit then table.insert(page, id) end
      total = total + 1
    end
  end
  start = start + #ids
end
table.insert(page, 1, total)
return page
