-- Creates a job and its tasks, queued for the first stage.
-- ARGV: prefix, job id, now ms, now iso, idempotency key or '', its ttl s, queue bound,
--       meta JSON {campaign_id, ctx, stages, max_attempts, retention_s}, n,
--       rate-limit bucket key, tokens per ms, burst, then n x (target, input JSON),
--       then optionally: worker id, k, lease ms: a worker of the first stage's service has room
--       for k tasks (its credit, taken by the caller): when no task of that service was queued
--       before, the first k tasks are leased to it at once (as dispatch.lua would next)
-- (common/pa_jobs.c's pa_jobs_create_call writes this list; nothing else does)
-- Returns {'created', id, then 8 + #RESULT_FIELDS values per task leased (as dispatch.lua,
--          without its max attempts: the caller gave them)} |
--         {'exists', id} (same idempotency key) | {'full', depth} |
--         {'limited', ms to wait} (the caller's token bucket is empty)
local jid, now, iso = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local idem, idem_ttl, bound = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local meta = cjson.decode(ARGV[8])
local n = tonumber(ARGV[9])
local bk, rate, burst = ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12])
if idem ~= '' then
  local e = redis.call('GET', k_idem(idem))
  if e then return {'exists', e} end
end
local first = string.match(meta.stages, '^[^,]+')
local ready = k_stage_ready(first)
-- the tasks that wait: the queue's entries less those of cancelled tasks (cancel.lua leaves them
-- for dispatch.lua to drop)
local depth = redis.call('LLEN', ready)
if depth > 0 then
  depth = math.max(0, depth - (tonumber(redis.call('GET', k_ready_dead(SVC[first]))) or 0))
end
if depth + n > bound then return {'full', tostring(depth)} end
-- a token bucket per API key: refilled continuously, one token per run
local b = redis.call('HMGET', bk, 't', 'ts')
local tokens = tonumber(b[1]) or burst
tokens = math.min(burst, tokens + math.max(0, now - (tonumber(b[2]) or now)) * rate)
if tokens < 1 then return {'limited', tostring(math.ceil((1 - tokens) / rate))} end
redis.call('HSET', bk, 't', tostring(tokens - 1), 'ts', ARGV[3])
redis.call('PEXPIRE', bk, math.ceil(burst / rate) + 1000)
local jk = k_job(jid)
-- A worker with room (when nothing of the service was queued before) gets the first tasks at
-- once: they are created leased to it, as dispatch.lua would lease them next, and skip the queue.
local lw, lk = ARGV[13 + 2 * n], tonumber(ARGV[14 + 2 * n])
local direct = 0
if lw and lw ~= '' and lk and lk > 0 and depth == 0 then direct = math.min(lk, n) end
redis.call('HSET', jk, 'id', jid, 'status', 'queued', 'total', n, 'campaign_id', meta.campaign_id,
           'ctx', meta.ctx, 'stages', meta.stages, 'max_attempts', meta.max_attempts,
           'retention_s', meta.retention_s, 'created', iso, 'updated', iso, 'created_ms', now,
           'queued', n - direct, 'running', direct, 'succeeded', 0, 'failed', 0, 'retry_wait', 0,
           'captcha_required', 0, 'skipped', 0, 'uncertain', 0, 'cancelled', 0)
-- only what a task does not share with its job: the key names job and task, an absent attempt
-- is 0, an absent updated is the job's created
local batch = {}
for i = direct + 1, n do
  local tk = task_key(jid, i)
  redis.call('HSET', k_task(tk), 'target', ARGV[11 + 2 * i], 'input', ARGV[12 + 2 * i],
             'stage', first, 'state', 'queued')
  batch[#batch + 1] = tk
  if #batch == 1000 or i == n then
    redis.call('LPUSH', ready, unpack(batch))
    batch = {}
  end
end
local out = {'created', jid}
local leased = {}
if direct > 0 then
  -- the leases start now, after the work above on a large run: Redis's own clock
  local lease_ms, lease_iso = clock_now()
  local until_s = string.format('%d', lease_ms + tonumber(ARGV[15 + 2 * n]))
  local token = redis.call('INCRBY', K_LEASE_SEQ, direct) - direct
  -- '<seq>-<Redis TIME in us>', as dispatch.lua: lease:seq alone would repeat after a restart
  -- that rolled it back
  local tm = redis.call('TIME')
  local nonce = '-'..tm[1]..string.format('%06d', tonumber(tm[2]))
  for i = 1, direct do
    local tk = task_key(jid, i)
    local target, input = ARGV[11 + 2 * i], ARGV[12 + 2 * i]
    local lease = string.format('%d', token + i)..nonce
    redis.call('HSET', k_task(tk), 'target', target, 'input', input, 'stage', first,
               'state', 'running', 'attempt', 1, 'lease', lease, 'worker', lw, 'updated', lease_iso)
    leased[#leased + 1] = until_s
    leased[#leased + 1] = tk
    -- as dispatch.lua answers: key, stage, lease, attempt, expiry, target, input, context
    -- (given once), then the earlier stages' results (none yet)
    local c = ''
    if i == 1 then c = meta.ctx end
    for _, v in ipairs({tk, first, lease, '1', until_s, target, input, c}) do
      out[#out + 1] = v
    end
    for _ = 1, #RESULT_FIELDS do out[#out + 1] = '' end
  end
  redis.call('HSET', jk, 'status', 'running', 'started', lease_iso)
end
-- single-stage API calls (POST /api/llm/generate) are jobs too, but not listed
if meta.listed ~= false then redis.call('ZADD', K_JOBS, now, jid) end
if idem ~= '' then redis.call('SET', k_idem(idem), jid, 'EX', idem_ttl) end
job_event(jid, 'queued', n)
if direct > 0 then
  for i = 1, direct do event(jid, task_id(i), first, 'running', 1, 'worker', lw) end
  redis.call('ZADD', k_worker_tasks(lw), unpack(leased))
  redis.call('SADD', K_LEASING, lw)
  flush_events()
end
return out
