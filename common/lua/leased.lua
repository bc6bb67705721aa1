-- How many tasks are leased to workers (read-only): the sum of every worker's lease set.
-- ARGV: prefix. Returns an integer.
local n = 0
for _, wid in ipairs(redis.call('SMEMBERS', K_LEASING)) do
  n = n + redis.call('ZCARD', k_worker_tasks(wid))
end
return n
