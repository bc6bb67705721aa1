-- Gives back a claim claim.lua took, when the side effect will not happen under it (its taking
-- was not acknowledged by the replicas REDIS_WAIT_REPLICAS asks for): deleted only while it is
-- still the caller's (task key and lease), so another task's claim is never touched.
-- ARGV: prefix, task key, lease, claim name. Returns 1 when given back, 0 when not the caller's.
local tk, lease, name = ARGV[2], ARGV[3], ARGV[4]
local key = k_claim(name)
if redis.call('GET', key) == tk..'/'..lease then return redis.call('DEL', key) end
return 0
