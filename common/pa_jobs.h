/* The job engine's Redis side: the Lua scripts that move tasks between states, and one typed
 * wrapper per script. Every state change of a task happens in exactly one of these scripts,
 * atomically with the job's counts, the queues, the lease index and the events stream
 * (docs/redis-keys.md). A script's positional ARGV list is written in one place: its wrapper in
 * pa_jobs.c.
 *
 * Each wrapper comes as
 *   int pa_jobs_X_call(pa_redis_t *r, const pa_jobs_X_in_t *in, pa_jobs_X_out_t *out,
 *                      char *err, size_t errlen);
 * returning 0 with out filled, or -1 (Redis unreachable, or an answer the script cannot give)
 * with a message in err. For a caller that sends the call itself (pipelined with callbacks, or
 * on an asynchronous connection) every script but create has pa_jobs_X_args (the ARGV list) and
 * the ones whose answer is not kept pa_jobs_X_parse (reads the reply); commit and leased also
 * have _append, and commit a _read, on a pa_redis_t pipeline.
 * Times are wall-clock ms (pa_wall_ms()); 0 means "now". Strings in are borrowed for the call. */
#ifndef PA_JOBS_H
#define PA_JOBS_H
#include <stdbool.h>
#include <stdint.h>

#include "pa_keys.h"
#include "pa_redis.h"
#include "pa_stages.h"

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
extern pa_script_t pa_jobs_claim;       /* the atomic check before a side effect */
extern pa_script_t pa_jobs_unclaim;     /* gives a claim back (not acknowledged by replicas) */
extern pa_script_t pa_jobs_reconcile;   /* release what a reconnected worker does not hold */

#define PA_NSTATES 9
extern const char *const pa_task_states[PA_NSTATES];
int pa_state_index(const char *state);

/* ---- ARGV lists, for callers that send a call themselves ------------------------------------ */

/* A script's ARGV list as pa_jobs_X_args writes it, for a caller that sends the call itself (a
 * pipeline whose answers go to callbacks, an asynchronous connection):
 *     pa_jobs_args_t a;
 *     pa_jobs_commit_args(&in, &a);
 *     pa_aredis_eval(ar, &pa_jobs_commit, on_answer, ud, 0, a.argc, a.argv, NULL);
 *     pa_jobs_args_free(&a);          // once the call is made (it copies the arguments)
 * and reads the answer with pa_jobs_X_parse. Short lists live in the struct (do not copy it);
 * a batch takes one allocation. The strings of the input must live until the call is sent. */
#define PA_JOBS_ARGS_INLINE 16
#define PA_JOBS_NUMS_INLINE 8
typedef struct {
    int argc;
    const char **argv;
    /* private */
    int cap, nnum, numcap;
    char (*num)[24];
    void *heap;
    char iso[25];
    const char *argv_inline[PA_JOBS_ARGS_INLINE];
    char num_inline[PA_JOBS_NUMS_INLINE][24];
} pa_jobs_args_t;

void pa_jobs_args_free(pa_jobs_args_t *a);

/* ---- leased tasks: what dispatch (and create, leasing at once) answer ---------------------- */

/* One task leased to a worker. Strings point into the answer (pa_jobs_leases_t keeps it). */
typedef struct {
    const char *key; /* "J:T" */
    size_t job_len;  /* key[0 .. job_len) is the job id, key + job_len + 1 the task number */
    const char *stage;
    const char *lease;     /* the lease token; a commit or release must give it back */
    unsigned attempt;      /* 1 on the first try of this stage */
    unsigned max_attempts; /* the stage's limit for this job; 0 when the answer did not say */
    uint64_t lease_until_ms;
    const char *target;
    size_t target_len;
    const char *input; /* JSON */
    size_t input_len;
    const char *ctx; /* the job's context JSON (never empty: "{}" when the job has none) */
    size_t ctx_len;
    /* result_<pa_stages[i]> JSON of the run stages before the last; NULL when absent */
    const char *results[PA_NRESULTS > 0 ? PA_NRESULTS : 1];
    size_t results_len[PA_NRESULTS > 0 ? PA_NRESULTS : 1];
} pa_jobs_task_t;

/* Leased tasks, owning the script's answer: one allocation for the n tasks, none per task. */
typedef struct {
    pa_jobs_task_t *tasks;
    size_t n;
    redisReply *reply; /* owned */
} pa_jobs_leases_t;

void pa_jobs_leases_free(pa_jobs_leases_t *l);
/* Moves src into dst (dst was free or empty); src is left empty. */
void pa_jobs_leases_move(pa_jobs_leases_t *dst, pa_jobs_leases_t *src);

/* ---- create --------------------------------------------------------------------------------- */

typedef struct {
    const char *prefix;
    const char *job; /* the new job's id ("j-<ulid>") */
    uint64_t now_ms;
    const char *idem;   /* the request's Idempotency-Key, or NULL */
    int idem_key_index; /* the API key's position in API_KEYS (-1 without keys) */
    long idem_ttl_s;
    long max_queued; /* MAX_QUEUED_TASKS: refused when the first queue would pass it */
    /* the job */
    const char *campaign_id;           /* or NULL */
    const char *ctx;                   /* JSON, given to every task of the job */
    const char *stages;                /* comma-separated, e.g. "enrich,compose,submit" */
    long max_attempts[PA_NSTAGES_ALL]; /* per stage (pa_stage_t); 0: the stage's default */
    long retention_s;                  /* how long the job's keys stay once it is finished */
    bool unlisted;                     /* true: not in <prefix>jobs (API call jobs) */
    /* the tasks */
    size_t n;
    const char *const *targets; /* n of each */
    const char *const *inputs;  /* JSON */
    /* the caller's token bucket */
    const char *rate_key; /* pa_key_rate() */
    double rate_per_ms;
    long burst;
    /* optionally: a worker of the first stage's service with room for lease_k tasks (credit the
     * caller took): when nothing of that service was queued, the first tasks are leased to it */
    const char *lease_worker; /* or NULL */
    unsigned lease_k;
    long lease_ms;
} pa_jobs_create_in_t;

typedef enum {
    PA_JOBS_CREATED,
    PA_JOBS_EXISTS,  /* the idempotency key names job (out->job) */
    PA_JOBS_FULL,    /* the queue holds out->depth tasks */
    PA_JOBS_LIMITED, /* the token bucket is empty for out->wait_ms */
} pa_jobs_create_status_t;

typedef struct {
    pa_jobs_create_status_t status;
    char job[PA_TASK_KEY_MAX]; /* CREATED, EXISTS */
    long long depth;           /* FULL */
    long long wait_ms;         /* LIMITED */
    pa_jobs_leases_t leased;   /* CREATED: tasks leased to lease_worker; free it (or move it) */
} pa_jobs_create_out_t;

int pa_jobs_create_call(pa_redis_t *r, const pa_jobs_create_in_t *in, pa_jobs_create_out_t *out,
                        char *err, size_t errlen);

/* ---- dispatch ------------------------------------------------------------------------------- */

typedef struct {
    const char *prefix;
    const char *service;
    unsigned n; /* at most this many tasks */
    const char *worker;
    uint64_t now_ms;
    long lease_ms;
    /* "<worker instance>@<gateway id>", recorded on each task (reconcile.lua); NULL: "" */
    const char *via;
} pa_jobs_dispatch_in_t;

/* out: the leases (free with pa_jobs_leases_free). */
int pa_jobs_dispatch_call(pa_redis_t *r, const pa_jobs_dispatch_in_t *in, pa_jobs_leases_t *out,
                          char *err, size_t errlen);
void pa_jobs_dispatch_args(const pa_jobs_dispatch_in_t *in, pa_jobs_args_t *a);

/* ---- commit (pipelined by the worker runtime) ----------------------------------------------- */

#define PA_JOBS_OUTCOMES(X)                                                                        \
    X(SUCCEEDED, succeeded)                                                                        \
    X(RETRY, retry)                                                                                \
    X(FAILED, failed)                                                                              \
    X(CAPTCHA_REQUIRED, captcha_required)                                                          \
    X(SKIPPED, skipped)                                                                            \
    X(UNCERTAIN, uncertain)

typedef enum {
#define PA_JOBS_OUT_ENUM_(e, s) PA_JOBS_OUT_##e,
    PA_JOBS_OUTCOMES(PA_JOBS_OUT_ENUM_)
#undef PA_JOBS_OUT_ENUM_
        PA_JOBS_NOUTCOMES
} pa_jobs_outcome_t;

const char *pa_jobs_outcome_name(pa_jobs_outcome_t o);
/* -1 for an unknown name */
int pa_jobs_outcome_parse(const char *name);

typedef struct {
    const char *key; /* "J:T" */
    const char *lease;
    pa_jobs_outcome_t outcome;
    const char *result; /* JSON for result_<stage>, or NULL */
    const char *error;  /* or NULL */
    long delay_ms;      /* RETRY: not sooner than this */
} pa_jobs_commit_item_t;

typedef struct {
    const char *prefix;
    const char *worker;
    uint64_t now_ms;
    const pa_jobs_commit_item_t *items;
    size_t n;
} pa_jobs_commit_in_t;

typedef struct {
    bool *stale;   /* the caller's array of n: true where the lease was no longer the worker's */
    size_t ok;     /* outcomes committed */
    size_t nstale; /* outcomes refused */
} pa_jobs_commit_out_t;

int pa_jobs_commit_call(pa_redis_t *r, const pa_jobs_commit_in_t *in, pa_jobs_commit_out_t *out,
                        char *err, size_t errlen);
/* Appends the commit to r's pipeline (flush it with pa_redis_flush); -1 when not connected.
 * Like every EVALSHA append, its first use (or the first after a NOSCRIPT) loads the script, a
 * round trip of its own: nothing else may be waiting in the pipeline then. */
int pa_jobs_commit_append(pa_redis_t *r, const pa_jobs_commit_in_t *in, char *err, size_t errlen);
/* Reads the answer of the commit of n outcomes appended before: waits wait_ms (-1: until it
 * comes). 0: out filled; 1: not come yet (still connected); -1: failed (Redis away, or the script
 * was not loaded: it is loaded again by the next append), the outcomes were not committed. */
int pa_jobs_commit_read(pa_redis_t *r, int wait_ms, size_t n, pa_jobs_commit_out_t *out, char *err,
                        size_t errlen);
void pa_jobs_commit_args(const pa_jobs_commit_in_t *in, pa_jobs_args_t *a);
/* Takes nothing: parses a reply the caller read (freed by the caller). NOSCRIPT is the caller's
 * to handle (atomic_store(&pa_jobs_commit.have_sha, 0)). */
int pa_jobs_commit_parse(const redisReply *reply, size_t n, pa_jobs_commit_out_t *out, char *err,
                         size_t errlen);

/* ---- maintain, worker_lost ------------------------------------------------------------------ */

typedef struct {
    const char *prefix;
    uint64_t now_ms;
    long limit; /* at most this many retries promoted, and leases requeued */
} pa_jobs_maintain_in_t;

typedef struct {
    long long promoted; /* due retries back in their queue */
    long long requeued; /* expired leases requeued (attempt counted) */
} pa_jobs_maintain_out_t;

int pa_jobs_maintain_call(pa_redis_t *r, const pa_jobs_maintain_in_t *in,
                          pa_jobs_maintain_out_t *out, char *err, size_t errlen);
void pa_jobs_maintain_args(const pa_jobs_maintain_in_t *in, pa_jobs_args_t *a);
int pa_jobs_maintain_parse(const redisReply *reply, pa_jobs_maintain_out_t *out, char *err,
                           size_t errlen);

typedef struct {
    const char *prefix;
    const char *worker;
    uint64_t now_ms;
    bool counted;         /* true: lost (the attempt counts); false: it said BYE */
    const char *instance; /* or NULL: only the tasks leased to this instance of the worker id */
} pa_jobs_worker_lost_in_t;

typedef struct {
    long long requeued;
} pa_jobs_worker_lost_out_t;

int pa_jobs_worker_lost_call(pa_redis_t *r, const pa_jobs_worker_lost_in_t *in,
                             pa_jobs_worker_lost_out_t *out, char *err, size_t errlen);
void pa_jobs_worker_lost_args(const pa_jobs_worker_lost_in_t *in, pa_jobs_args_t *a);
int pa_jobs_worker_lost_parse(const redisReply *reply, pa_jobs_worker_lost_out_t *out, char *err,
                              size_t errlen);

/* ---- release, renew: tasks named by key and lease ------------------------------------------- */

typedef struct {
    const char *key;
    const char *lease;
} pa_jobs_lease_ref_t;

typedef struct {
    const char *prefix;
    const char *worker;
    uint64_t now_ms;
    const pa_jobs_lease_ref_t *tasks;
    size_t n;
} pa_jobs_release_in_t;

typedef struct {
    long long released; /* requeued at the front, attempt not counted */
} pa_jobs_release_out_t;

int pa_jobs_release_call(pa_redis_t *r, const pa_jobs_release_in_t *in, pa_jobs_release_out_t *out,
                         char *err, size_t errlen);
void pa_jobs_release_args(const pa_jobs_release_in_t *in, pa_jobs_args_t *a);
int pa_jobs_release_parse(const redisReply *reply, pa_jobs_release_out_t *out, char *err,
                          size_t errlen);

/* renew.lua checks every lease a worker holds and extends those given a new expiry. */
typedef struct {
    const char *key;
    const char *lease;
    uint64_t until_ms; /* the lease's new expiry, or 0: check it without extending */
} pa_jobs_renew_item_t;

typedef struct {
    const char *prefix;
    const char *worker;
    const pa_jobs_renew_item_t *tasks;
    size_t n;
    const char *instance; /* or NULL: with alive_ms, <prefix>worker:<id>:alive = instance */
    long alive_ms;
} pa_jobs_renew_in_t;

typedef enum {
    PA_LEASE_HELD,      /* the lease holds (extended when asked) */
    PA_LEASE_CANCELLED, /* the task's job was cancelled: stop it */
    PA_LEASE_LOST,      /* no longer this worker's (expired and went back, or given to another) */
} pa_jobs_lease_state_t;

typedef struct {
    pa_jobs_lease_state_t *state; /* the caller's array of n, or NULL */
    size_t held, cancelled, lost;
} pa_jobs_renew_out_t;

int pa_jobs_renew_call(pa_redis_t *r, const pa_jobs_renew_in_t *in, pa_jobs_renew_out_t *out,
                       char *err, size_t errlen);
void pa_jobs_renew_args(const pa_jobs_renew_in_t *in, pa_jobs_args_t *a);
int pa_jobs_renew_parse(const redisReply *reply, size_t n, pa_jobs_renew_out_t *out, char *err,
                        size_t errlen);

/* ---- reconcile: a reconnected worker's held list against its leases ------------------------ */

typedef struct {
    const char *prefix;
    const char *worker;
    const char *via;      /* "<instance>@<gateway id>": only tasks leased so are released */
    const char *instance; /* the worker's instance: tasks of another instance are requeued */
    uint64_t now_ms;
    bool with_held;                  /* false: the worker sent no held list (nothing released) */
    const pa_jobs_lease_ref_t *held; /* what the worker holds */
    size_t n;
} pa_jobs_reconcile_in_t;

typedef struct {
    long long released; /* leased via this gateway, not held: requeued, attempt not counted */
    long long requeued; /* leased to another (gone) instance: requeued, attempt counted */
} pa_jobs_reconcile_out_t;

int pa_jobs_reconcile_call(pa_redis_t *r, const pa_jobs_reconcile_in_t *in,
                           pa_jobs_reconcile_out_t *out, char *err, size_t errlen);

/* ---- claim: the one atomic step before a side effect ---------------------------------------- */

typedef struct {
    const char *prefix;
    const char *worker;
    const char *key; /* the task "J:T" */
    const char *lease;
    const char *name; /* the claim (<prefix>claim:<name>), e.g. campaign + target */
    long ttl_s;       /* 0: the claim never expires */
} pa_jobs_claim_in_t;

typedef enum {
    PA_JOBS_CLAIM_OK,        /* taken now, or already held by this same lease */
    PA_JOBS_CLAIM_TAKEN,     /* another task or an earlier try holds it */
    PA_JOBS_CLAIM_CANCELLED, /* the job was cancelled */
    PA_JOBS_CLAIM_STALE,     /* the lease is no longer the caller's */
} pa_jobs_claim_status_t;

typedef struct {
    pa_jobs_claim_status_t status;
} pa_jobs_claim_out_t;

int pa_jobs_claim_call(pa_redis_t *r, const pa_jobs_claim_in_t *in, pa_jobs_claim_out_t *out,
                       char *err, size_t errlen);
void pa_jobs_claim_args(const pa_jobs_claim_in_t *in, pa_jobs_args_t *a);
int pa_jobs_claim_parse(const redisReply *reply, pa_jobs_claim_out_t *out, char *err,
                        size_t errlen);

/* unclaim.lua: gives back the claim `name` while it is still task key's under lease. */
typedef struct {
    const char *prefix;
    const char *key;   /* the task, "J:T" */
    const char *lease; /* the lease that took it */
    const char *name;
} pa_jobs_unclaim_in_t;
void pa_jobs_unclaim_args(const pa_jobs_unclaim_in_t *in, pa_jobs_args_t *a);

/* ---- cancel, requeue ------------------------------------------------------------------------ */

typedef struct {
    const char *prefix;
    const char *job;
    uint64_t now_ms;
} pa_jobs_cancel_in_t;

typedef enum {
    PA_CANCEL_CANCELLED, /* now or before */
    PA_CANCEL_COMPLETED, /* it had finished: nothing changed */
    PA_CANCEL_NOTFOUND,
} pa_jobs_cancel_status_t;

typedef struct {
    pa_jobs_cancel_status_t status;
    /* the workers that held running tasks of the job, to be told (a cancel.lua that names them
     * answers {status, worker...}; one that does not leaves this empty) */
    const char **workers;
    size_t nworkers;
    redisReply *reply; /* owned: the workers' ids point into it */
} pa_jobs_cancel_out_t;

/* out: free with pa_jobs_cancel_out_free. */
int pa_jobs_cancel_call(pa_redis_t *r, const pa_jobs_cancel_in_t *in, pa_jobs_cancel_out_t *out,
                        char *err, size_t errlen);
void pa_jobs_cancel_out_free(pa_jobs_cancel_out_t *out);
void pa_jobs_cancel_args(const pa_jobs_cancel_in_t *in, pa_jobs_args_t *a);

typedef struct {
    const char *prefix;
    const char *key; /* "J:T" */
    uint64_t now_ms;
} pa_jobs_requeue_in_t;

typedef enum {
    PA_REQUEUE_OK,
    PA_REQUEUE_NOTFOUND,
    PA_REQUEUE_NOT_FAILED, /* the task is in out->state */
} pa_jobs_requeue_status_t;

typedef struct {
    pa_jobs_requeue_status_t status;
    char state[32];
} pa_jobs_requeue_out_t;

int pa_jobs_requeue_call(pa_redis_t *r, const pa_jobs_requeue_in_t *in, pa_jobs_requeue_out_t *out,
                         char *err, size_t errlen);
void pa_jobs_requeue_args(const pa_jobs_requeue_in_t *in, pa_jobs_args_t *a);
int pa_jobs_requeue_parse(const redisReply *reply, pa_jobs_requeue_out_t *out, char *err,
                          size_t errlen);

/* ---- leased (read-only; pipelined by /metrics and prospectctl queues) ----------------------- */

typedef struct {
    const char *prefix;
} pa_jobs_leased_in_t;

typedef struct {
    long long leased; /* tasks leased to workers */
} pa_jobs_leased_out_t;

int pa_jobs_leased_call(pa_redis_t *r, const pa_jobs_leased_in_t *in, pa_jobs_leased_out_t *out,
                        char *err, size_t errlen);
/* Appends the call to r's pipeline. Its first use loads the script (a round trip of its own):
 * append it before anything else in the pipeline, or pa_redis_script_load(r, &pa_jobs_leased)
 * first. */
int pa_jobs_leased_append(pa_redis_t *r, const pa_jobs_leased_in_t *in, char *err, size_t errlen);
int pa_jobs_leased_parse(const redisReply *reply, pa_jobs_leased_out_t *out, char *err,
                         size_t errlen);
void pa_jobs_leased_args(const pa_jobs_leased_in_t *in, pa_jobs_args_t *a);

#endif
