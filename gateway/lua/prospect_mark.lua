-- The position to follow the change stream from: the current seq and the last entry's id, read
-- atomically so that a reload misses nothing. ARGV: prefix.
local p = ARGV[1]
local last = redis.call('XREVRANGE', p..'prospects:changes', '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
return {redis.call('GET', p..'prospects:seq') or '0', id}
