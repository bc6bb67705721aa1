-- Creates a campaign unless its id is taken: its hash and its place in the campaigns index.
-- ARGV: prefix, id, name, channel, sent, opens, clicks, responses, created, sender (JSON, '' for
-- none). Returns 1 when created, 0 when the id exists.
local p, id = ARGV[1], ARGV[2]
local key = p..'campaign:'..id
if redis.call('EXISTS', key) == 1 then return 0 end
redis.call('HSET', key, 'name', ARGV[3], 'channel', ARGV[4], 'sent', ARGV[5],
  'opens', ARGV[6], 'clicks', ARGV[7], 'responses', ARGV[8], 'created', ARGV[9])
if ARGV[10] ~= '' then redis.call('HSET', key, 'sender', ARGV[10]) end
redis.call('ZADD', p..'campaigns', 0, id)
return 1
