-- The one atomic step before a side effect that must not happen twice or after a cancel (the
-- form worker's POST): the task's lease must still be the caller's and its job not cancelled;
-- only then is the claim taken, with SET NX. After cancel.lua has answered, no task of the job
-- can take a claim: cancel.lua and this script run one after the other, never interleaved.
-- ARGV: prefix, worker id, task key, lease, claim name, ttl s ('0': the claim never expires).
-- Returns 'ok' (taken now, or already held by this same lease), 'taken' (another task or an
-- earlier try holds it), 'cancelled' (the job was cancelled), 'stale' (the lease is not the
-- caller's any more).
local wid, tk, lease, name, ttl = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]) or 0
local t = redis.call('HMGET', k_task(tk), 'state', 'lease', 'worker')
local job = split_key(tk)
if t[1] == 'cancelled' or (job and redis.call('HGET', k_job(job), 'status') == 'cancelled') then
  return 'cancelled'
end
if t[1] ~= 'running' or t[2] ~= lease or t[3] ~= wid then return 'stale' end
local key, mine = k_claim(name), tk..'/'..lease
local got
if ttl > 0 then got = redis.call('SET', key, mine, 'NX', 'EX', ttl)
else got = redis.call('SET', key, mine, 'NX') end
if got then return 'ok' end
if redis.call('GET', key) == mine then
  -- written again (same value and expiry), so that a WAIT of the asking connection covers it:
  -- asked again after a failover, the claim must reach the new master's replicas too
  redis.call('SET', key, mine, 'KEEPTTL')
  return 'ok'
end
return 'taken'
