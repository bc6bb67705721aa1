-- Cancels a job: its queued and waiting tasks end as cancelled; running ones finish their
-- stage and go no further. ARGV: prefix, job id, now iso. Returns the job's status.
local jid, iso = ARGV[2], ARGV[3]
local jk = P..'job:'..jid
local h = redis.call('HMGET', jk, 'status', 'total')
if not h[1] then return 'notfound' end
if h[1] == 'completed' or h[1] == 'cancelled' then return h[1] end
redis.call('HSET', jk, 'status', 'cancelled', 'cancelled_at', iso, 'updated', iso)
local svcs = {}
for i = 1, tonumber(h[2]) do
  local tid = string.format('%06d', i)
  local tk = jid..':'..tid
  local key = P..'task:'..tk
  local t = redis.call('HMGET', key, 'state', 'stage', 'attempt')
  if t[1] == 'queued' or t[1] == 'retry_wait' then
    if t[1] == 'queued' then svcs[SVC[t[2]]] = true end
    redis.call('ZREM', P..'delayed', tk)
    redis.call('HSET', key, 'state', 'cancelled', 'updated', iso)
    move(jk, t[1], 'cancelled')
    event(jid, tid, t[2], 'cancelled', t[3] or 0)
  end
end
-- take the job's entries out of the queues, so that they stop counting against
-- MAX_QUEUED_TASKS (costs one pass over each queue the job was in)
local pfx = jid..':'
for svc in pairs(svcs) do
  local q = P..'ready:'..svc
  local keep = {}
  for _, e in ipairs(redis.call('LRANGE', q, 0, -1)) do
    if string.sub(e, 1, #pfx) ~= pfx then keep[#keep + 1] = e end
  end
  redis.call('DEL', q)
  for i = 1, #keep, 1000 do
    redis.call('RPUSH', q, unpack(keep, i, math.min(i + 999, #keep)))
  end
end
job_event(jid, 'cancelled')
mark_finish(jk, jid)
done(iso)
return 'cancelled'
