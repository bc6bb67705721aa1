-- Deletes one prospect and its index entries, and appends the delete to the change stream.
-- ARGV: prefix, id.
local p, id = ARGV[1], ARGV[2]
local key = p..'prospect:'..id
local cur = redis.call('HGETALL', key)
if #cur == 0 then return {'notfound', id} end
local old = {}
for i = 1, #cur, 2 do old[cur[i]] = cur[i+1] end
if old.email then
  local e = string.lower(old.email)
  if redis.call('HGET', p..'prospects:email', e) == id then
    redis.call('HDEL', p..'prospects:email', e)
  end
end
if old.status then redis.call('SREM', p..'prospects:status:'..old.status, id) end
if old.industry then redis.call('SREM', p..'prospects:industry:'..old.industry, id) end
redis.call('DEL', key)
redis.call('ZREM', p..'prospects', id)
local seq = redis.call('INCR', p..'prospects:seq')
redis.call('XADD', p..'prospects:changes', 'MAXLEN', '~', 10000, '*',
  'seq', seq, 'op', 'del', 'id', id)
return {'deleted', id, tostring(seq)}
