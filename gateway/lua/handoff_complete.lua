-- Marks a hand-off done by a person (POST /api/handoffs/{id}/complete): out of the open set
-- (pa:handoffs), into the done set (pa:handoffs:done, scored by when, the newest 100,000 kept),
-- and on the task: handoff "done", handoff_done_at, handoff_note (when one is given).
-- ARGV: prefix, task key "J:T", now ms, now ISO, note, '1' when a note is given.
-- Returns {'ok', iso}; {'done', iso or '', done ms or ''} when it was completed before;
-- {'unknown'} when no open hand-off has that key (its task gone: the member is dropped).
local p, tk, now, iso = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local key = p..'task:'..tk
local open, done = p..'handoffs', p..'handoffs:done'
local DONE_KEEP = 100000
local t = redis.call('HMGET', key, 'state', 'handoff', 'handoff_done_at')
if t[2] == 'done' then
  return {'done', t[3] or '', redis.call('ZSCORE', done, tk) or ''}
end
if not redis.call('ZSCORE', open, tk) then
  local when = redis.call('ZSCORE', done, tk)
  if when then return {'done', '', when} end
  return {'unknown'}
end
if not t[1] then
  -- the task expired with its job: nothing is left to finish
  redis.call('ZREM', open, tk)
  return {'unknown'}
end
redis.call('ZREM', open, tk)
redis.call('ZADD', done, now, tk)
redis.call('ZREMRANGEBYRANK', done, 0, -(DONE_KEEP + 1))
if ARGV[6] == '1' then
  redis.call('HSET', key, 'handoff', 'done', 'handoff_done_at', iso, 'handoff_note', ARGV[5])
else
  redis.call('HSET', key, 'handoff', 'done', 'handoff_done_at', iso)
end
return {'ok', iso}
