-- How many tasks are leased to workers (read-only): the sum of every worker's lease set.
-- ARGV: prefix. Returns an integer.
local n = 0
for _, wid in ipairs(redis.call('SMEMBERS', P..'leasing')) do
  n = n + redis.call('ZCARD', P..'worker:'..wid..':tasks')
end
return n
