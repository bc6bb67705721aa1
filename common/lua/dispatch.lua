-- Leases up to n queued tasks of one service to a worker. Returns, per task, 10 values: task
-- key (job:task), stage, lease, attempt, lease expiry ms, target, input JSON, job context JSON,
-- and the enrich and compose results ('' when absent). The context is '' when the task before
-- in the answer belongs to the same job (it is the same). The gateway builds the payload: string
-- work is cheaper there than in Redis, which every gateway and worker shares.
-- ARGV: prefix, service, n, worker id, now ms, now iso, lease ms
local out = lease_tasks(ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), ARGV[6],
                       tonumber(ARGV[7]))
done(ARGV[6])
return out
