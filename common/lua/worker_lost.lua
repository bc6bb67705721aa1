-- A worker was declared dead (missed heartbeats): every task it held is requeued at once, and
-- the attempt counts. Also run, with ARGV[4] = '0', when a worker says BYE: tasks leased to it
-- after it gave its work back requeue without counting an attempt.
-- ARGV: prefix, worker id, now iso[, counted '1'|'0'[, instance prefix]]. With one, only the
-- tasks leased to that instance of the worker id (or to none recorded) are taken back: another
-- instance of the id may be running. Returns the number of tasks taken back.
local wid, iso = ARGV[2], ARGV[3]
local counted = ARGV[4] ~= '0'
local only = ARGV[5] or ''
local n = 0
for _, tk in ipairs(redis.call('ZRANGE', k_worker_tasks(wid), 0, -1)) do
  local t = redis.call('HMGET', k_task(tk), 'state', 'stage', 'attempt', 'worker', 'via')
  if t[1] == 'running' and t[4] == wid and
     (only == '' or not t[5] or t[5] == '' or string.sub(t[5], 1, #only) == only) then
    local job, tid = split_key(tk)
    requeue_running(tk, job, tid, t[2], tonumber(t[3]) or 1, wid, iso,
                    counted and ('worker '..wid..' lost') or '', counted)
    n = n + 1
  end
end
if only == '' or redis.call('ZCARD', k_worker_tasks(wid)) == 0 then
  redis.call('DEL', k_worker_tasks(wid))
  redis.call('SREM', K_LEASING, wid)
end
done(iso)
return n
