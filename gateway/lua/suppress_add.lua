-- Adds suppressions (POST /api/suppressions): each value to its set (pa:suppress:domains or
-- pa:suppress:emails, what the form worker checks), its metadata (pa:suppress:meta,
-- "<kind>:<value>" -> JSON {added, reason?}, kept from the first time it was added) and its place
-- in the listing's index (pa:suppress:index, all scores 0, members "<kind>:<value>" in byte
-- order), together. A value that was in its set already (added by hand, say) gets the metadata
-- and index entry it lacked.
-- ARGV: prefix, then n x (kind 'domain' | 'email', normalised value, metadata JSON).
-- Returns per value 1 when added, 0 when it was there.
local p = ARGV[1]
local sets = {domain = p..'suppress:domains', email = p..'suppress:emails'}
local meta, index = p..'suppress:meta', p..'suppress:index'
local out = {}
for i = 2, #ARGV, 3 do
  local kind, v, m = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local set = sets[kind]
  if not set then return redis.error_reply('suppress_add: unknown kind '..tostring(kind)) end
  out[#out + 1] = redis.call('SADD', set, v)
  redis.call('HSETNX', meta, kind..':'..v, m)
  redis.call('ZADD', index, 0, kind..':'..v)
end
return out
