-- A worker said HELLO (after a reconnect, a gateway restart, or as a new process) with its
-- instance and what it holds. Of the tasks leased to its worker id:
-- - those leased to another instance of the id are requeued at once, the attempt counted: that
--   process is gone (the caller checked that no other instance is alive);
-- - those leased to this instance via this gateway that the held list does not name never
--   reached it (the TASK was lost with the old connection): back to the front of their queue at
--   once, the attempt not counted. Tasks leased via another gateway are not touched: one may be
--   on its way.
-- ARGV: prefix, worker id, the via dispatch.lua records ('<instance prefix>@<gateway tag>',
-- gw_dispatch.c's via_of), now iso, the instance prefix, n (-1: no held list, only the first rule), then n x (task key, lease).
-- Returns {released, requeued}.
local wid, via, iso, inst, n = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local mine = via
local held = {}
for i = 0, n - 1 do held[ARGV[7 + 2 * i]..' '..ARGV[8 + 2 * i]] = true end
local released, requeued = 0, 0
for _, tk in ipairs(redis.call('ZRANGE', k_worker_tasks(wid), 0, -1)) do
  local t = redis.call('HMGET', k_task(tk), 'state', 'stage', 'attempt', 'worker', 'via', 'lease')
  if t[1] == 'running' and t[4] == wid then
    local job, tid = split_key(tk)
    -- via is '<instance prefix>@<gateway tag>' (dispatch.lua)
    if t[5] and t[5] ~= '' and string.sub(t[5], 1, #inst) ~= inst then
      requeue_running(tk, job, tid, t[2], tonumber(t[3]) or 1, wid, iso,
                      'worker '..wid..' restarted', true)
      requeued = requeued + 1
    elseif n >= 0 and t[5] == mine and not held[tk..' '..(t[6] or '')] then
      requeue_running(tk, job, tid, t[2], tonumber(t[3]) or 1, wid, iso, '', false)
      released = released + 1
    end
  end
end
done(iso)
return {released, requeued}
