-- Publishes one llm worker's circuit breaker for the gateways (/metrics, /api/health): the hash
-- pa:llm:breaker:<worker> (expires after ttl unless refreshed) and its entry in the sorted set
-- pa:llm:breakers (scored by that expiry, ms), where entries of workers gone silent are dropped.
-- ARGV: prefix, worker id, now ms, ttl ms (0: the worker is leaving: remove it),
--       then field, value pairs
local P, wid, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local key, index = P..'llm:breaker:'..wid, P..'llm:breakers'
if ttl == 0 then
  redis.call('DEL', key)
  redis.call('ZREM', index, wid)
  return 0
end
redis.call('DEL', key)
redis.call('HSET', key, unpack(ARGV, 5))
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', index, now + ttl, wid)
redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
return 1
