-- start(step_id, token, worker) -> 1 while the token holds the lease, else 0.
local id = arg(1)
if not lease_is(id, arg(2)) then return 0 end
change_step(id, {worker = arg(3), started = NOW_S})
return 1
