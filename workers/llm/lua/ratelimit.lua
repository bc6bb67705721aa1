-- The rate limit one provider's llm workers share (docs/redis-keys.md, pa:llm:rl:...): two token
-- buckets in one hash, requests (r) and tokens (t), refilled continuously from their per-minute
-- rates, each holding at most `burst` seconds of its rate (at least 1), last refill at ts (ms).
-- A call whose token estimate is larger than the bucket may go once the bucket is full, leaving
-- it in debt, so a large prompt waits for its share instead of waiting for ever.
-- ARGV: prefix, key, now ms, requests per minute (0: no limit), tokens per minute (0: no limit),
--       burst s, mode, n
--   mode 'take': reserve one request and n tokens. Returns 0 (taken) or the ms to wait before
--                asking again (nothing taken).
--   mode 'adjust': give back n tokens (n < 0 takes more): the real usage replaces the estimate.
--                Returns 0.
local key, now = ARGV[2], tonumber(ARGV[3])
local rpm, tpm, burst = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local mode, n = ARGV[7], tonumber(ARGV[8])
local rrate, trate = rpm / 60000, tpm / 60000
local rcap, tcap = math.max(1, rpm * burst / 60), math.max(1, tpm * burst / 60)
local h = redis.call('HMGET', key, 'r', 't', 'ts')
local elapsed = math.max(0, now - (tonumber(h[3]) or now))
local r = math.min(rcap, (tonumber(h[1]) or rcap) + elapsed * rrate)
local t = math.min(tcap, (tonumber(h[2]) or tcap) + elapsed * trate)
if mode == 'take' then
  local wait = 0
  if rpm > 0 and r < 1 then wait = (1 - r) / rrate end
  local need = math.min(n, tcap)
  if tpm > 0 and t < need then wait = math.max(wait, (need - t) / trate) end
  if wait > 0 then return math.max(1, math.ceil(wait)) end
  if rpm > 0 then r = r - 1 end
  if tpm > 0 then t = t - n end
elseif tpm > 0 then
  t = math.min(tcap, t + n)
end
redis.call('HSET', key, 'r', string.format('%.6f', r), 't', string.format('%.6f', t), 'ts', now)
-- forgotten once both buckets would be full again (a missing bucket is a full one)
local full = 0
if rpm > 0 then full = (rcap - r) / rrate end
if tpm > 0 then full = math.max(full, (tcap - t) / trate) end
redis.call('PEXPIRE', key, math.ceil(full) + 1000)
return 0
