/* The job engine's Redis side: the Lua scripts that move tasks between states. Every state
 * change of a task happens in exactly one of these scripts, atomically with the job's counts,
 * the queues, the lease index and the events stream (docs/redis-keys.md). */
#ifndef PA_JOBS_H
#define PA_JOBS_H
#include "pa_redis.h"

extern pa_script_t pa_jobs_create;      /* a job and its tasks */
extern pa_script_t pa_jobs_dispatch;    /* lease queued tasks to a worker */
extern pa_script_t pa_jobs_commit;      /* a worker's outcomes, checked against the lease */
extern pa_script_t pa_jobs_maintain;    /* due retries and expired leases */
extern pa_script_t pa_jobs_worker_lost; /* requeue a dead worker's tasks */
extern pa_script_t pa_jobs_release;     /* a stopping worker gives tasks back */
extern pa_script_t pa_jobs_renew;       /* extend leases */
extern pa_script_t pa_jobs_cancel;      /* cancel a job */
extern pa_script_t pa_jobs_requeue;     /* an operator retries a failed task */
extern pa_script_t pa_jobs_leased;      /* how many tasks are leased (read-only) */

#define PA_NSTATES 9
extern const char *const pa_task_states[PA_NSTATES];
#define PA_NSTAGES 3
extern const char *const pa_stages[PA_NSTAGES];

/* The service that runs a stage ("enrich" -> "mcp", "compose" -> "llm", "submit" -> "form"), or
 * NULL for an unknown stage. */
const char *pa_stage_service(const char *stage);
int pa_state_index(const char *state);

#endif
