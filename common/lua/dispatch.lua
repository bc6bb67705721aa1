-- Leases up to n queued tasks of one service to a worker. Returns, per task, 10 values: task
-- key (job:task), stage, lease, attempt, lease expiry ms, target, input JSON, job context JSON,
-- and the enrich and compose results ('' when absent). The gateway builds the payload: string
-- work is cheaper there than in Redis, which every gateway and worker shares.
-- ARGV: prefix, service, n, worker id, now ms, now iso, lease ms
local svc, n, wid = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local now, iso, lease_ms = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local ready = P..'ready:'..svc
local until_ms = now + lease_ms
local out, jobs = {}, {}
local pops = 0
-- lease tokens for the whole batch in one call; tokens of tasks not leased are skipped
local token = redis.call('INCRBY', P..'lease:seq', n) - n
while #out < n * 10 and pops < n * 4 do
  pops = pops + 1
  local tk = redis.call('RPOP', ready)
  if not tk then break end
  local key = P..'task:'..tk
  local t = redis.call('HMGET', key, 'state', 'job', 'id', 'stage', 'attempt', 'target', 'input',
                       'result_enrich', 'result_compose')
  -- entries of cancelled or already moved tasks are left in queues; they are dropped here
  if t[1] == 'queued' and SVC[t[4]] == svc then
    local job, tid, stage = t[2], t[3], t[4]
    local attempt = (tonumber(t[5]) or 0) + 1
    local jk = P..'job:'..job
    local c = jobs[job]
    if not c then
      local h = redis.call('HMGET', jk, 'ctx', 'status')
      c = h[1] or '{}'
      jobs[job] = c
      if h[2] == 'queued' then redis.call('HSET', jk, 'status', 'running', 'started', iso) end
    end
    token = token + 1
    local lease = string.format('%d', token)
    redis.call('HSET', key, 'state', 'running', 'attempt', attempt, 'lease', lease,
               'lease_until', until_ms, 'worker', wid, 'updated', iso)
    redis.call('ZADD', P..'inflight', until_ms, tk)
    redis.call('SADD', P..'worker:'..wid..':tasks', tk)
    move(jk, 'queued', 'running')
    event(job, tid, stage, 'running', attempt, 'worker', wid)
    out[#out + 1] = tk
    out[#out + 1] = stage
    out[#out + 1] = lease
    out[#out + 1] = tostring(attempt)
    out[#out + 1] = string.format('%d', until_ms)
    out[#out + 1] = t[6]
    out[#out + 1] = t[7] or '{}'
    out[#out + 1] = c
    out[#out + 1] = t[8] or ''
    out[#out + 1] = t[9] or ''
  end
end
done(iso)
return out
