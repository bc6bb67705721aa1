-- Looks up one tool result in the mcp workers' cache and counts the hit or the miss.
-- ARGV: prefix, cache key. Returns the cached value, or nil.
local v = redis.call('GET', ARGV[2])
if v then
  redis.call('INCR', ARGV[1]..'mcp:cache:hits')
else
  redis.call('INCR', ARGV[1]..'mcp:cache:misses')
end
return v
