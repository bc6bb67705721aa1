-- The form workers' gate before every request to a website: the origin's lock (one task per
-- origin at a time, across all form workers) and its token bucket (FORM_RATE_MS per request,
-- FORM_RATE_BURST at once; Crawl-delay raises the interval), in one atomic step.
-- KEYS: lock key, bucket key. ARGV: owner (the task's lease), lock ms (0: no lock),
--       interval ms (0: no rate limit), burst.
-- Returns {0, 0} (go now; the lock is the caller's for lock ms more), {1, ms} (another task
-- holds the origin: ms left on its lock), {2, ms} (the bucket is empty: wait ms).
local owner, lock_ms = ARGV[1], tonumber(ARGV[2])
local interval, burst = tonumber(ARGV[3]), tonumber(ARGV[4])
if lock_ms > 0 then
  local cur = redis.call('GET', KEYS[1])
  if cur and cur ~= owner then
    return {1, math.max(1, redis.call('PTTL', KEYS[1]))}
  end
  redis.call('SET', KEYS[1], owner, 'PX', lock_ms)
end
if interval <= 0 then return {0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) / interval)
if tokens < 1 then
  return {2, math.max(1, math.ceil((1 - tokens) * interval))}
end
redis.call('HSET', KEYS[2], 'tokens', tostring(tokens - 1), 'ts', now)
redis.call('PEXPIRE', KEYS[2], math.ceil(interval * burst) + 1000)
return {0, 0}
