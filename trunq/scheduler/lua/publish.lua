-- publish(kind, step_id, data_json) -> event id
return emit(arg(1), arg(2), cjson.decode(arg(3)))
