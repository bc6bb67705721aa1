-- Creates, patches or upserts one prospect: its hash, the operator-facing index keys, the email
-- owner, prospects:seq and the change stream entry (the whole new document), in one step.
-- ARGV: prefix, mode (create|patch|upsert), id ('' for a new one), a new id, now, the fields as JSON.
local p, mode, id, newid, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local doc = cjson.decode(ARGV[6])
local F = {'name','company','status','industry','lastContactDate','email','title','website'}
if id == '' then
  if mode == 'upsert' and type(doc.email) == 'string' then
    id = redis.call('HGET', p..'prospects:email', string.lower(doc.email)) or ''
  end
  if id == '' then id = newid end
end
local key = p..'prospect:'..id
local cur = redis.call('HGETALL', key)
local old, new = {}, {}
for i = 1, #cur, 2 do old[cur[i]] = cur[i+1]; new[cur[i]] = cur[i+1] end
local exists = #cur > 0
if mode == 'create' and exists then return {'conflict', id, 'id', id} end
if mode == 'patch' and not exists then return {'notfound', id} end
for _, f in ipairs(F) do
  local v = doc[f]
  if v == cjson.null then new[f] = nil elseif v ~= nil then new[f] = v end
end
new.status = new.status or 'new'
if not new.name then return {'invalid', id, 'name'} end
if not new.company then return {'invalid', id, 'company'} end
local ne = new.email and string.lower(new.email)
local oe = old.email and string.lower(old.email)
if ne and ne ~= oe then
  local owner = redis.call('HGET', p..'prospects:email', ne)
  if owner and owner ~= id then return {'conflict', id, 'email', owner} end
end
if oe and oe ~= ne then redis.call('HDEL', p..'prospects:email', oe) end
if ne then redis.call('HSET', p..'prospects:email', ne, id) end
if old.status ~= new.status then
  if old.status then redis.call('SREM', p..'prospects:status:'..old.status, id) end
  redis.call('SADD', p..'prospects:status:'..new.status, id)
end
if old.industry ~= new.industry then
  if old.industry then redis.call('SREM', p..'prospects:industry:'..old.industry, id) end
  if new.industry then redis.call('SADD', p..'prospects:industry:'..new.industry, id) end
end
local args, out = {}, {id = id}
for _, f in ipairs(F) do
  if new[f] then args[#args+1] = f; args[#args+1] = new[f]; out[f] = new[f]
  elseif old[f] then redis.call('HDEL', key, f) end
end
if not exists then args[#args+1] = 'created'; args[#args+1] = now end
args[#args+1] = 'updated'; args[#args+1] = now
redis.call('HSET', key, unpack(args))
redis.call('ZADD', p..'prospects', 0, id)
local seq = redis.call('INCR', p..'prospects:seq')
local j = cjson.encode(out)
redis.call('XADD', p..'prospects:changes', 'MAXLEN', '~', 10000, '*',
  'seq', seq, 'op', 'put', 'id', id, 'doc', j)
return {exists and 'updated' or 'created', id, tostring(seq), j}
