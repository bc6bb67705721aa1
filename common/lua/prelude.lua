-- Prepended to every job-engine script at build time (common/CMakeLists.txt), after the stage
-- tables generated from common/pa_stages.h (SVC, MAX_ATTEMPTS_DEFAULT, SENDS, RUN_STAGES,
-- RESULT_FIELDS, TASK_ID_FMT).
-- ARGV[1] is always the key prefix. Keys are documented in docs/redis-keys.md.
local P = ARGV[1]

-- Key names: the scripts build every key through these (the C side's are in pa_keys.h).
local K_JOBS, K_DELAYED, K_LEASING = P..'jobs', P..'delayed', P..'leasing'
local K_EVENTS, K_DEAD, K_LEASE_SEQ = P..'events', P..'dead', P..'lease:seq'
local function k_job(job) return P..'job:'..job end
local function k_task(tk) return P..'task:'..tk end                 -- tk is "J:T"
local function k_ready(svc) return P..'ready:'..svc end
local function k_stage_ready(stage) return P..'ready:'..SVC[stage] end
-- how many entries of a queue belong to cancelled tasks (left for dispatch.lua to drop)
local function k_ready_dead(svc) return P..'ready:'..svc..':dead' end
local function k_worker_tasks(wid) return P..'worker:'..wid..':tasks' end
local function k_idem(key) return P..'idem:'..key end
local function k_campaign(id) return P..'campaign:'..id end
local function k_claim(name) return P..'claim:'..name end         -- a side effect's claim
-- A task's number as in its key ("000042"), and its key "J:T".
local function task_id(i) return string.format(TASK_ID_FMT, i) end
local function task_key(job, i) return job..':'..string.format(TASK_ID_FMT, i) end
local TERMINAL = {succeeded = true, failed = true, captcha_required = true, skipped = true,
                  uncertain = true, cancelled = true}
-- The events stream: an entry holds one job's task changes of one script call, at most
-- EVENTS_BATCH of them, as a JSON array of [task, stage, state, attempt(, key, value)]
-- (fields `job`, `tasks`); job-level entries have `job`, `state` (and `total`). Writing a
-- batch as one entry costs Redis far less than an entry per change (docs/redis-keys.md).
local EVENTS_MAXLEN, EVENTS_BATCH = 20000, 64
local EV, EV_ORDER = {}, {}

local function flush_events()
  for _, job in ipairs(EV_ORDER) do
    local list = EV[job]
    for i = 1, #list, EVENTS_BATCH do
      local part = list
      if #list > EVENTS_BATCH then part = {unpack(list, i, math.min(i + EVENTS_BATCH - 1, #list))} end
      redis.call('XADD', K_EVENTS, 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'job', job, 'tasks',
                 cjson.encode(part))
    end
  end
  EV, EV_ORDER = {}, {}
end

-- A task's change, written with the others of its job by flush_events().
local function event(job, tid, stage, state, attempt, k, v)
  local list = EV[job]
  if not list then list = {}; EV[job] = list; EV_ORDER[#EV_ORDER + 1] = job end
  if k then list[#list + 1] = {tid, stage, state, tostring(attempt), k, v}
  else list[#list + 1] = {tid, stage, state, tostring(attempt)} end
end

-- A job-level entry, after the task changes written so far.
local function job_event(job, state, total)
  flush_events()
  if total then
    redis.call('XADD', K_EVENTS, 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'job', job, 'state', state,
               'total', total)
  else
    redis.call('XADD', K_EVENTS, 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'job', job, 'state', state)
  end
end

-- A task leaves state `from` for `to`: the job's count of each moves with it. Moves are summed
-- per job and written once by done(), so a batch costs a few HINCRBYs, not two per task.
local DELTA, FIN = {}, {}
local function move(jk, from, to)
  if from == to then return end
  local d = DELTA[jk]
  if not d then d = {}; DELTA[jk] = d end
  if from then d[from] = (d[from] or 0) - 1 end
  d[to] = (d[to] or 0) + 1
end

-- Redis's clock now: ms since the epoch, and as RFC 3339 with ms ("2026-11-25T03:04:23.483Z";
-- the civil date from the day count, as in Howard Hinnant's days_from_civil inverse). For a
-- script that runs long enough for the caller's "now" to be stale (a large create).
local function clock_now()
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local s = tonumber(t[1])
  local days = math.floor(s / 86400)
  local rem = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) -
                          math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return ms, string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(rem / 3600),
                           math.floor(rem % 3600 / 60), rem % 60, ms % 1000)
end

-- A task key "J:T" names its job and its task: the task hash does not repeat them.
local function split_key(tk) return string.match(tk, '^(.+):(%d+)$') end

local function next_stage(stages, stage)
  local found = false
  for s in string.gmatch(stages, '[^,]+') do
    if found then return s end
    if s == stage then found = true end
  end
  return nil
end

-- The job's tries of a stage: its max_attempts JSON ({"<stage>": n}), else the stage's default.
local function max_attempts_of(m, stage)
  if type(m) == 'table' and tonumber(m[stage]) then return tonumber(m[stage]) end
  return MAX_ATTEMPTS_DEFAULT[stage] or 3
end
local function decode_max_attempts(json)
  local ok, m = pcall(cjson.decode, json or '{}')
  if ok then return m end
  return nil
end
local function max_attempts(json, stage) return max_attempts_of(decode_max_attempts(json), stage) end

local function dead_letter(tk, job, stage, attempts, reason, iso)
  redis.call('LPUSH', K_DEAD, cjson.encode({task = tk, job = job, stage = stage,
                                           attempts = attempts, reason = reason, at = iso}))
  redis.call('LTRIM', K_DEAD, 0, 9999)
end

-- Once every task of a job is terminal: the job is finished and its keys expire.
local function maybe_finish(jk, job, iso)
  local h = redis.call('HMGET', jk, 'total', 'succeeded', 'failed', 'captcha_required', 'skipped',
                       'uncertain', 'cancelled', 'status', 'retention_s', 'finished')
  if h[10] then return end
  local done = 0
  for i = 2, 7 do done = done + (tonumber(h[i]) or 0) end
  local total = tonumber(h[1]) or 0
  if done < total then return end
  local status = 'completed'
  if h[8] == 'cancelled' then status = 'cancelled' end
  redis.call('HSET', jk, 'status', status, 'finished', iso, 'updated', iso)
  local ttl = tonumber(h[9]) or 604800
  redis.call('EXPIRE', jk, ttl)
  for i = 1, total do
    redis.call('EXPIRE', k_task(task_key(job, i)), ttl)
  end
  job_event(job, status)
end

-- The job may be over: checked by done(), after the counts are written.
local function mark_finish(jk, job) FIN[jk] = job end

-- Every script ends with done(iso): writes the summed counts and the task changes, then finishes
-- jobs that are over.
local function done(iso)
  flush_events()
  for jk, d in pairs(DELTA) do
    for st, n in pairs(d) do
      if n ~= 0 then redis.call('HINCRBY', jk, st, n) end
    end
    redis.call('HSET', jk, 'updated', iso)
  end
  DELTA = {}
  for jk, job in pairs(FIN) do maybe_finish(jk, job, iso) end
  FIN = {}
end

-- Takes a running task back: to the front of its queue, or to failed (and the dead letters)
-- when `counted` and its attempts are spent. Returns the new state.
local function requeue_running(tk, job, tid, stage, attempt, worker, iso, reason, counted)
  local key = k_task(tk)
  local jk = k_job(job)
  if worker then redis.call('ZREM', k_worker_tasks(worker), tk) end
  local m = redis.call('HMGET', jk, 'max_attempts', 'status')
  if not counted then attempt = attempt - 1 end
  local new = 'queued'
  local err = reason
  if m[2] == 'cancelled' then
    new = 'cancelled'
  elseif counted and attempt >= max_attempts(m[1], stage) then
    new = 'failed'
    err = 'gave up after '..attempt..' attempts: '..reason
    dead_letter(tk, job, stage, attempt, err, iso)
  else
    redis.call('RPUSH', k_stage_ready(stage), tk)
  end
  redis.call('HSET', key, 'state', new, 'attempt', attempt, 'updated', iso)
  if err ~= '' then redis.call('HSET', key, 'error', err) end
  move(jk, 'running', new)
  if err ~= '' then event(job, tid, stage, new, attempt, 'error', err)
  else event(job, tid, stage, new, attempt) end
  if TERMINAL[new] then mark_finish(jk, job) end
  return new
end
