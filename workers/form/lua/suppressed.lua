-- Is a target suppressed (the opt-out lists, POST /api/suppressions)? Checked before any request.
-- KEYS: the domains set, the e-mails set. ARGV: the prospect's e-mail ('' when none), then the
-- domains to look up (the target's host and each parent, the e-mail's domain and each parent).
-- Returns 'email:<value>' or 'domain:<value>' for the first match, or false.
if ARGV[1] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  return 'email:'..ARGV[1]
end
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then return 'domain:'..ARGV[i] end
end
return false
