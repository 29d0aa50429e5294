-- publish(kind, step_id, data_json) -> event id
return emit_json(arg(1), arg(2), arg(3))
