-- release_resources(holder, amounts_json): amounts "null" = everything the holder has.
local holder, amounts = arg(1), cjson.decode(arg(2))
if amounts == cjson.null then
  release_all(holder)
else
  for resource, amount in pairs(amounts) do release_units(holder, resource, amount) end
end
return 1
