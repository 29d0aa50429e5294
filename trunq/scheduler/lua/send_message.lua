-- send_message(step_id, content, keep) -> message id; queued for the step, kept in the
-- step's conversation (its last ``keep`` messages) and logged as an event.
local id, content, keep = arg(1), arg(2), tonumber(arg(3))
local message_id = tostring(redis.call("INCR", key("seq", "messages")))
redis.call("RPUSH", key("inbox", id), cjson.encode({message_id, content}))
-- the console's record of the conversation (the inbox is emptied by the step)
redis.call("RPUSH", key("said", id), cjson.encode({message_id, content, NOW_S}))
redis.call("LTRIM", key("said", id), -keep, -1)
emit("message", id, {message_id = message_id, content = content})
return message_id
