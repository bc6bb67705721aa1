-- Any gateway, periodically: due retries go back to their queue, expired leases are requeued,
-- workers that hold no lease leave the set `leasing`, and the index of jobs forgets jobs whose
-- hash has expired (JOB_RETENTION_S), a few at a time from a cursor (`jobs:trim`) that goes round it.
-- ARGV: prefix, now ms, now iso, limit. Returns {promoted, requeued}.
local now, iso, limit = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local promoted, requeued = 0, 0
for _, tk in ipairs(redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', K_DELAYED, tk)
  local key = k_task(tk)
  local t = redis.call('HMGET', key, 'state', 'stage', 'attempt')
  if t[1] == 'retry_wait' then
    local job, tid = split_key(tk)
    local jk = k_job(job)
    if redis.call('HGET', jk, 'status') == 'cancelled' then
      -- a retry due in a cancelled job ends cancelled, not queued again
      redis.call('HSET', key, 'state', 'cancelled', 'updated', iso)
      move(jk, 'retry_wait', 'cancelled')
      event(job, tid, t[2], 'cancelled', t[3] or 0)
      mark_finish(jk, job)
    else
      redis.call('HSET', key, 'state', 'queued', 'updated', iso)
      redis.call('LPUSH', k_stage_ready(t[2]), tk)
      move(jk, 'retry_wait', 'queued')
      event(job, tid, t[2], 'queued', t[3] or 0)
      promoted = promoted + 1
    end
  end
end
-- expired leases, worker by worker (the workers that may hold any are in the set `leasing`)
for _, wid in ipairs(redis.call('SMEMBERS', K_LEASING)) do
  local wk = k_worker_tasks(wid)
  if requeued < limit then
    for _, tk in ipairs(redis.call('ZRANGEBYSCORE', wk, '-inf', now, 'LIMIT', 0, limit - requeued)) do
      -- the score is the lease's expiry: a renewed lease has a later one
      local t = redis.call('HMGET', k_task(tk), 'state', 'stage', 'attempt', 'worker')
      if t[1] == 'running' and t[4] == wid then
        local job, tid = split_key(tk)
        requeue_running(tk, job, tid, t[2], tonumber(t[3]) or 1, wid, iso, 'lease expired', true)
        requeued = requeued + 1
      else
        redis.call('ZREM', wk, tk)
      end
    end
  end
  if redis.call('ZCARD', wk) == 0 then redis.call('SREM', K_LEASING, wid) end
end
-- the index of jobs: the TRIM_STEP entries from the cursor (a rank), those whose job has expired
-- removed; the next step starts after the ones kept (new jobs come at the end, being the
-- newest), and at the end of the index the cursor starts again from the oldest
local TRIM_STEP = 20
local K_TRIM = K_JOBS..':trim'
local at = tonumber(redis.call('GET', K_TRIM) or '0') or 0
local ids = redis.call('ZRANGE', K_JOBS, at, at + TRIM_STEP - 1)
local kept = 0
for _, jid in ipairs(ids) do
  if redis.call('EXISTS', k_job(jid)) == 0 then redis.call('ZREM', K_JOBS, jid)
  else kept = kept + 1 end
end
if #ids < TRIM_STEP then redis.call('DEL', K_TRIM)
else redis.call('SET', K_TRIM, at + kept) end
done(iso)
return {promoted, requeued}
