-- Extends the leases of long tasks. ARGV: prefix, worker id, new expiry ms, n,
-- then n x (task key, lease). Returns how many leases were still held.
local wid, until_ms, n = ARGV[2], ARGV[3], tonumber(ARGV[4])
local held = 0
for i = 0, n - 1 do
  local tk, lease = ARGV[5 + 2 * i], ARGV[6 + 2 * i]
  local key = P..'task:'..tk
  local t = redis.call('HMGET', key, 'state', 'lease')
  if t[1] == 'running' and t[2] == lease then
    redis.call('ZADD', P..'worker:'..wid..':tasks', until_ms, tk)
    held = held + 1
  end
end
return held
