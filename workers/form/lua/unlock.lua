-- Gives an origin's lock back, only if the caller (its lease) still holds it.
-- KEYS: lock key. ARGV: owner. Returns 1 when released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
