-- Runner of a chained script ("finish+start", see redis_store._script_source): BODIES holds
-- each script's body as a function of its own arg(i). After the header, ARGV holds for each
-- body the number of its arguments, then the arguments. Returns the list of the results.
local results, at = {}, 3
for i, body in ipairs(BODIES) do
  local base, count = at + 1, tonumber(ARGV[at + 1])
  results[i] = body(function(j) return ARGV[base + j] end)
  at = base + count
end
return results
