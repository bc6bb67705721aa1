-- An operator sends a failed (dead-lettered) task round again from its failed stage.
-- ARGV: prefix, task key (job:task), now iso. Returns 'ok', 'notfound' or the state it is in.
local tk, iso = ARGV[2], ARGV[3]
local key = k_task(tk)
local t = redis.call('HMGET', key, 'state', 'stage')
if not t[1] then return 'notfound' end
if t[1] ~= 'failed' then return t[1] end
local job, tid = split_key(tk)
local jk = k_job(job)
redis.call('HSET', key, 'state', 'queued', 'attempt', 0, 'updated', iso)
redis.call('PERSIST', key)
redis.call('LPUSH', k_stage_ready(t[2]), tk)
move(jk, 'failed', 'queued')
event(job, tid, t[2], 'queued', 0, 'by', 'operator')
done(iso)
if redis.call('HGET', jk, 'status') == 'completed' then
  redis.call('HSET', jk, 'status', 'running', 'updated', iso)
  redis.call('HDEL', jk, 'finished')
  redis.call('PERSIST', jk)
end
return 'ok'
