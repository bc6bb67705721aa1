-- Commits the outcomes of tasks a worker held. A task whose lease token does not match (the
-- lease expired and the task went to another worker), or that is leased to another worker id,
-- is refused: 'stale'.
-- ARGV: prefix, worker id, now ms, now iso, n,
--       then n x (task key, lease, outcome, result JSON or '', error or '', retry delay ms)
-- outcome: succeeded | retry | failed | captcha_required | skipped | uncertain
-- (common/pa_jobs.c's pa_jobs_commit_append writes this list)
-- A task that ends captcha_required joins the hand-off queue (pa:handoffs, scored by now), for a
-- person to finish its form (GET /api/handoffs). A submit that was a dry run (its result's
-- "outcome" is "dry_run") sent nothing: the campaign's sent count does not move.
local K_HANDOFFS = P..'handoffs'

-- 1 when a result says it was a dry run: a plain find first (no JSON decoding of the usual
-- result), then the result's own top-level member, so that a value quoting the words does not
-- count.
local function dry_run(result)
  if result == '' or not string.find(result, '"dry_run"', 1, true) then return false end
  local ok, r = pcall(cjson.decode, result)
  return ok and type(r) == 'table' and (r.outcome == 'dry_run' or r.dry_run == true)
end

local wid, now, iso, n = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local out, jobs, ended = {}, {}, {}
for i = 0, n - 1 do
  local b = 6 + i * 6
  local tk, lease, outcome = ARGV[b], ARGV[b + 1], ARGV[b + 2]
  local result, err, delay = ARGV[b + 3], ARGV[b + 4], tonumber(ARGV[b + 5]) or 0
  local key = k_task(tk)
  local t = redis.call('HMGET', key, 'state', 'lease', 'stage', 'attempt', 'worker')
  if t[1] ~= 'running' or t[2] ~= lease or t[5] ~= wid then
    out[#out + 1] = 'stale'
  else
    local job, tid = split_key(tk)
    local stage, attempt = t[3], tonumber(t[4]) or 1
    local jk = k_job(job)
    local m = jobs[job]
    if not m then
      local h = redis.call('HMGET', jk, 'stages', 'max_attempts', 'status', 'campaign_id')
      m = {stages = h[1] or '', max = h[2], status = h[3], campaign = h[4] or ''}
      jobs[job] = m
    end
    -- the lease ends: out of this worker's lease set (the token is unique to it), in one call
    -- at the end
    ended[#ended + 1] = tk
    -- the lease token stays as the last one given: the state says it is over
    local f = {'updated', iso}
    if result ~= '' then
      f[#f + 1] = 'result_'..stage; f[#f + 1] = result
      -- LLM token usage, summed per job (a pattern match: no JSON decoding inside Redis)
      local pt = string.match(result, '"prompt_tokens":(%d+)')
      local ct = string.match(result, '"completion_tokens":(%d+)')
      if pt or ct then
        local d = DELTA[jk]
        if not d then d = {}; DELTA[jk] = d end
        d.tokens_prompt = (d.tokens_prompt or 0) + (tonumber(pt) or 0)
        d.tokens_completion = (d.tokens_completion or 0) + (tonumber(ct) or 0)
      end
    end
    local new = outcome
    local evstage = stage
    if outcome == 'succeeded' then
      local nxt = next_stage(m.stages, stage)
      if nxt and m.status == 'cancelled' then
        new = 'cancelled'
      elseif nxt then
        new = 'queued'
        f[#f + 1] = 'stage'; f[#f + 1] = nxt; f[#f + 1] = 'attempt'; f[#f + 1] = 0
        evstage = nxt
        redis.call('LPUSH', k_stage_ready(nxt), tk)
      end
      if SENDS[stage] and m.campaign ~= '' and not dry_run(result) then
        -- the one place a campaign's sent count moves: once per task, guarded by the lease
        redis.call('HINCRBY', k_campaign(m.campaign), 'sent', 1)
      end
    elseif outcome == 'retry' then
      if m.status == 'cancelled' then
        -- the job was cancelled while this try ran: no retry, and nothing failed
        new = 'cancelled'
      elseif attempt < max_attempts(m.max, stage) then
        new = 'retry_wait'
        redis.call('ZADD', K_DELAYED, now + delay, tk)
      else
        new = 'failed'
        err = 'gave up after '..attempt..' attempts: '..err
        dead_letter(tk, job, stage, attempt, err, iso)
      end
    end
    if err ~= '' then f[#f + 1] = 'error'; f[#f + 1] = err end
    f[#f + 1] = 'state'; f[#f + 1] = new
    if new == 'captcha_required' then redis.call('ZADD', K_HANDOFFS, now, tk) end
    redis.call('HSET', key, unpack(f))
    move(jk, 'running', new)
    if err ~= '' then event(job, tid, evstage, new, attempt, 'error', err)
    else event(job, tid, evstage, new, attempt) end
    if TERMINAL[new] then mark_finish(jk, job) end
    out[#out + 1] = 'ok'
  end
end
for i = 1, #ended, 1000 do
  redis.call('ZREM', k_worker_tasks(wid), unpack(ended, i, math.min(i + 999, #ended)))
end
done(iso)
return out
