-- Removes a suppression (DELETE /api/suppressions): from its set, its metadata and the listing's
-- index, together (see suppress_add.lua).
-- ARGV: prefix, kind ('domain' | 'email'), normalised value. Returns 1 when it was there, else 0.
local p, kind, v = ARGV[1], ARGV[2], ARGV[3]
local sets = {domain = p..'suppress:domains', email = p..'suppress:emails'}
local set = sets[kind]
if not set then return redis.error_reply('suppress_del: unknown kind '..tostring(kind)) end
local n = redis.call('SREM', set, v)
redis.call('HDEL', p..'suppress:meta', kind..':'..v)
redis.call('ZREM', p..'suppress:index', kind..':'..v)
return n
