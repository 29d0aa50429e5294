-- respond(step_id, message_id, response): store the answer and log it as an event.
local id, message_id, response = arg(1), arg(2), arg(3)
redis.call("HSET", key("responses", id), message_id, response)
emit("response", id, {message_id = message_id, response = response})
return 1
