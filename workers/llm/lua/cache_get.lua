-- Looks up one answer in the llm response cache and counts the hit or the miss.
-- ARGV: prefix, cache key. Returns the cached value, or nil.
local v = redis.call('GET', ARGV[2])
if v then
  redis.call('INCR', ARGV[1]..'llm:cache:hits')
else
  redis.call('INCR', ARGV[1]..'llm:cache:misses')
end
return v
