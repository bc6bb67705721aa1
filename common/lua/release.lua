-- A worker that stops gives back tasks it will not finish; they are requeued at the front and
-- the attempt is not counted (only tasks leased to that worker id under that lease).
-- ARGV: prefix, worker id, now iso, n, then n x (task key, lease)
local wid, iso, n = ARGV[2], ARGV[3], tonumber(ARGV[4])
local released = 0
for i = 0, n - 1 do
  local tk, lease = ARGV[5 + 2 * i], ARGV[6 + 2 * i]
  local t = redis.call('HMGET', k_task(tk), 'state', 'stage', 'attempt', 'lease', 'worker')
  if t[1] == 'running' and t[4] == lease and t[5] == wid then
    local job, tid = split_key(tk)
    requeue_running(tk, job, tid, t[2], tonumber(t[3]) or 1, wid, iso, '', false)
    released = released + 1
  end
end
done(iso)
return released
