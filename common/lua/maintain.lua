-- Any gateway, periodically: due retries go back to their queue, expired leases are requeued,
-- and workers that hold no lease leave the set `leasing`.
-- ARGV: prefix, now ms, now iso, limit. Returns {promoted, requeued}.
local now, iso, limit = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local promoted, requeued = 0, 0
for _, tk in ipairs(redis.call('ZRANGEBYSCORE', P..'delayed', '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', P..'delayed', tk)
  local key = P..'task:'..tk
  local t = redis.call('HMGET', key, 'state', 'job', 'id', 'stage', 'attempt')
  if t[1] == 'retry_wait' then
    redis.call('HSET', key, 'state', 'queued', 'updated', iso)
    redis.call('LPUSH', P..'ready:'..SVC[t[4]], tk)
    move(P..'job:'..t[2], 'retry_wait', 'queued')
    event(t[2], t[3], t[4], 'queued', t[5])
    promoted = promoted + 1
  end
end
-- expired leases, worker by worker (the workers that may hold any are in the set `leasing`)
for _, wid in ipairs(redis.call('SMEMBERS', P..'leasing')) do
  local wk = P..'worker:'..wid..':tasks'
  if requeued < limit then
    for _, tk in ipairs(redis.call('ZRANGEBYSCORE', wk, '-inf', now, 'LIMIT', 0, limit - requeued)) do
      local t = redis.call('HMGET', P..'task:'..tk, 'state', 'job', 'id', 'stage', 'attempt',
                           'lease_until', 'worker')
      if t[1] == 'running' and t[7] == wid and (tonumber(t[6]) or 0) <= now then
        requeue_running(tk, t[2], t[3], t[4], tonumber(t[5]) or 1, wid, iso, 'lease expired', true)
        requeued = requeued + 1
      else
        redis.call('ZREM', wk, tk)
      end
    end
  end
  if redis.call('ZCARD', wk) == 0 then redis.call('SREM', P..'leasing', wid) end
end
done(iso)
return {promoted, requeued}
