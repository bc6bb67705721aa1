-- Any gateway, periodically: due retries go back to their queue, expired leases are requeued.
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
for _, tk in ipairs(redis.call('ZRANGEBYSCORE', P..'inflight', '-inf', now, 'LIMIT', 0, limit)) do
  local key = P..'task:'..tk
  local t = redis.call('HMGET', key, 'state', 'job', 'id', 'stage', 'attempt', 'lease_until',
                       'worker')
  if t[1] == 'running' and (tonumber(t[6]) or 0) <= now then
    requeue_running(tk, t[2], t[3], t[4], tonumber(t[5]) or 1, t[7], iso, 'lease expired', true)
    requeued = requeued + 1
  else
    redis.call('ZREM', P..'inflight', tk)
  end
end
done(iso)
return {promoted, requeued}
