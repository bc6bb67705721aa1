-- Leases up to n queued tasks of one service to a worker. Returns, per task, 9 + #RESULT_FIELDS
-- values: task key (job:task), stage, lease, attempt, lease expiry ms, target, input JSON, job
-- context JSON, the results of the run stages before the last ('' when absent; RESULT_FIELDS),
-- and the stage's max attempts. The context is '' when the task before in the answer belongs to
-- the same job (it is the same). The gateway builds the payload: string work is cheaper there
-- than in Redis, which every gateway and worker shares.
-- ARGV: prefix, service, n, worker id, now ms, now iso, lease ms, via: '<instance prefix>@<gateway
-- tag>' (gw_dispatch.c's via_of: the worker process and the leasing gateway), recorded on each
-- leased task: reconcile.lua releases only what this gateway sent to this instance, and tells a
-- restarted worker's old tasks from its new ones (one field: each costs Redis time per task)
-- A lease token is '<seq>-<Redis TIME in us>': lease:seq alone would repeat after a restart that
-- rolled it back (AOF fsync window); with the time of the batch it never does.
-- (common/pa_jobs.c's pa_jobs_dispatch_call writes this list and reads the answer)
-- Leases up to n queued tasks of service svc to worker wid; returns the values above.
local function lease_tasks(svc, n, wid, now, iso, lease_ms, via)
  local ready = k_ready(svc)
  local until_s = string.format('%d', now + lease_ms)
  local out, jobs, leased = {}, {}, {}
  local pops, last_job = 0, nil
  -- entries of cancelled tasks (cancel.lua leaves them, counted in ready:<service>:dead) are
  -- dropped here; up to DEAD_DROP_MAX of them a call do not count against the 4n pops below
  local dead, DEAD_DROP_MAX = 0, 1024
  -- lease tokens for the whole batch in one call; tokens of tasks not leased are skipped
  local token = redis.call('INCRBY', K_LEASE_SEQ, n) - n
  local tm = redis.call('TIME')
  local nonce = '-'..tm[1]..string.format('%06d', tonumber(tm[2]))
  -- queue entries are popped n at a time (entries of cancelled or already moved tasks are left
  -- in queues and dropped here, so a few more rounds may be needed, up to 4n entries in all)
  while #leased < n * 2 and pops - dead < n * 4 and dead < DEAD_DROP_MAX do
    local want = n - #leased / 2
    local got = redis.call('RPOP', ready, want)
    if not got then break end
    pops = pops + #got
    for _, tk in ipairs(got) do
      local key = k_task(tk)
      local t = redis.call('HMGET', key, 'state', 'stage', 'attempt', 'target', 'input',
                           unpack(RESULT_FIELDS))
      if t[1] == 'queued' and SVC[t[2]] == svc then
        local job, tid = split_key(tk)
        local stage = t[2]
        local attempt = (tonumber(t[3]) or 0) + 1
        local jk = k_job(job)
        local j = jobs[job]
        if not j then
          local h = redis.call('HMGET', jk, 'ctx', 'status', 'max_attempts')
          j = {ctx = h[1] or '{}', max = decode_max_attempts(h[3]), maxs = {}}
          jobs[job] = j
          if h[2] == 'queued' then redis.call('HSET', jk, 'status', 'running', 'started', iso) end
        end
        token = token + 1
        local lease = string.format('%d', token)..nonce
        -- the lease's expiry is its score in the worker's lease set
        redis.call('HSET', key, 'state', 'running', 'attempt', attempt, 'lease', lease,
                   'worker', wid, 'via', via, 'updated', iso)
        leased[#leased + 1] = until_s
        leased[#leased + 1] = tk
        move(jk, 'queued', 'running')
        event(job, tid, stage, 'running', attempt, 'worker', wid)
        out[#out + 1] = tk
        out[#out + 1] = stage
        out[#out + 1] = lease
        out[#out + 1] = tostring(attempt)
        out[#out + 1] = until_s
        out[#out + 1] = t[4]
        out[#out + 1] = t[5] or '{}'
        -- the job's context once per run of tasks of the same job: '' means "as the task before"
        if job == last_job then out[#out + 1] = '' else out[#out + 1] = j.ctx end
        last_job = job
        for r = 1, #RESULT_FIELDS do out[#out + 1] = t[5 + r] or '' end
        -- the stage's tries, worked out once per job and stage in a call
        local ms = j.maxs[stage]
        if not ms then
          ms = tostring(max_attempts_of(j.max, stage))
          j.maxs[stage] = ms
        end
        out[#out + 1] = ms
      elseif not t[1] or t[1] == 'cancelled' then
        dead = dead + 1
      end
    end
    if #got < want then break end
  end
  if dead > 0 then
    -- an empty queue holds no dead entry: the count starts again from 0
    local dk = k_ready_dead(svc)
    if redis.call('LLEN', ready) == 0 or redis.call('DECRBY', dk, dead) <= 0 then
      redis.call('DEL', dk)
    end
  end
  -- the worker's leases: one sorted set per worker, scored by lease expiry (ms)
  if #leased > 0 then
    for i = 1, #leased, 1000 do
      redis.call('ZADD', k_worker_tasks(wid), unpack(leased, i, math.min(i + 999, #leased)))
    end
    redis.call('SADD', K_LEASING, wid)
  end
  return out
end

local out = lease_tasks(ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), ARGV[6],
                       tonumber(ARGV[7]), ARGV[8] or '')
done(ARGV[6])
return out
