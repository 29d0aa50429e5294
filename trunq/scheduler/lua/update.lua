-- update(step_id, fields_json): display fields; a JSON null deletes the field.
local fields = cjson.decode(arg(2))
for name, value in pairs(fields) do
  if value == cjson.null then fields[name] = false end
end
return change_step(arg(1), fields) and 1 or 0
