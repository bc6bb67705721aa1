-- Checks every lease a worker holds and extends those near their end, in one call (the runtime
-- makes it at least once a second). ARGV: prefix, worker id, n, then n x (task key, lease,
-- new expiry ms, or '0' to check without extending), then optionally the worker's instance and
-- a time to live ms: <prefix>worker:<id>:alive is set to the instance for that long (the worker
-- is alive, whichever gateway it talks to; docs/redis-keys.md).
-- Returns one answer per task, in order: 'ok' (the lease holds), 'cancelled' (the task's job was
-- cancelled: stop it), 'lost' (the lease is no longer this worker's: it expired and the task
-- went back, or was given to another worker).
local wid, n = ARGV[2], tonumber(ARGV[3])
local out, extend = {}, {}
for i = 0, n - 1 do
  local tk, lease, until_ms = ARGV[4 + 3 * i], ARGV[5 + 3 * i], ARGV[6 + 3 * i]
  local t = redis.call('HMGET', k_task(tk), 'state', 'lease', 'worker')
  if t[2] ~= lease or t[3] ~= wid then
    out[#out + 1] = 'lost'
  elseif t[1] == 'running' then
    out[#out + 1] = 'ok'
    if until_ms ~= '0' then
      extend[#extend + 1] = until_ms
      extend[#extend + 1] = tk
    end
  elseif t[1] == 'cancelled' then
    out[#out + 1] = 'cancelled'
  else
    out[#out + 1] = 'lost'
  end
end
local inst, ttl = ARGV[4 + 3 * n], tonumber(ARGV[5 + 3 * n])
if inst and inst ~= '' and ttl and ttl > 0 then
  redis.call('SET', P..'worker:'..wid..':alive', inst, 'PX', ttl)
end
-- the lease's expiry is its score in the worker's lease set
for i = 1, #extend, 1000 do
  redis.call('ZADD', k_worker_tasks(wid), unpack(extend, i, math.min(i + 999, #extend)))
end
return out
