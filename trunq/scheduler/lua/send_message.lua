-- send_message(step_id, content) -> message id; queued for the step and logged as an event.
local id, content = arg(1), arg(2)
local message_id = tostring(redis.call("INCR", key("seq", "messages")))
redis.call("RPUSH", key("inbox", id), cjson.encode({message_id, content}))
emit("message", id, {message_id = message_id, content = content})
return message_id
