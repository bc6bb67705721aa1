-- Cancels a job: its queued, waiting and running tasks end as cancelled at once. A running
-- task's lease is void from here on: its late commit is refused ('stale'), its lease check
-- answers 'cancelled' and its claims (claim.lua) answer 'cancelled'.
-- ARGV: prefix, job id, now iso[, '1' to be answered with the workers].
-- Returns the job's status: 'cancelled', 'completed' or 'notfound'. With ARGV[4] = '1' the
-- answer is an array: {status, then the id of each worker that held a running task of the job
-- (each once)}, so that the caller can tell those workers (a CANCEL message).
local jid, iso, with_workers = ARGV[2], ARGV[3], ARGV[4] == '1'
local jk = k_job(jid)
local function answer(status, workers)
  if not with_workers then return status end
  local out = {status}
  for w in pairs(workers or {}) do out[#out + 1] = w end
  return out
end
local h = redis.call('HMGET', jk, 'status', 'total')
if not h[1] then return answer('notfound') end
if h[1] == 'completed' or h[1] == 'cancelled' then return answer(h[1]) end
redis.call('HSET', jk, 'status', 'cancelled', 'cancelled_at', iso, 'updated', iso)
local svcs, workers = {}, {}
for i = 1, tonumber(h[2]) do
  local tid = task_id(i)
  local tk = jid..':'..tid
  local key = k_task(tk)
  local t = redis.call('HMGET', key, 'state', 'stage', 'attempt', 'worker')
  if t[1] == 'queued' or t[1] == 'retry_wait' or t[1] == 'running' then
    if t[1] == 'queued' then svcs[SVC[t[2]]] = (svcs[SVC[t[2]]] or 0) + 1 end
    if t[1] == 'retry_wait' then redis.call('ZREM', K_DELAYED, tk) end
    if t[1] == 'running' and t[4] then
      -- the lease ends here: out of its worker's lease set, and that worker is told
      redis.call('ZREM', k_worker_tasks(t[4]), tk)
      workers[t[4]] = true
    end
    redis.call('HSET', key, 'state', 'cancelled', 'updated', iso)
    move(jk, t[1], 'cancelled')
    event(jid, tid, t[2], 'cancelled', t[3] or 0)
  end
end
-- The job's queue entries stay where they are (rewriting a queue would cost time in the queue's
-- length, whatever the job's size): dispatch.lua drops them when it pops them. They are counted
-- per service in <prefix>ready:<service>:dead, so that create.lua's MAX_QUEUED_TASKS check sees
-- only the entries of tasks that still wait.
for svc, n in pairs(svcs) do redis.call('INCRBY', k_ready_dead(svc), n) end
job_event(jid, 'cancelled')
mark_finish(jk, jid)
done(iso)
return answer('cancelled', workers)
