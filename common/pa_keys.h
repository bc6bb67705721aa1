/* Redis key names, made in one place (docs/redis-keys.md describes each key). Every key starts
 * with the configured prefix (REDIS_PREFIX, "pa:" by default). The job-engine scripts build the
 * same names through the helpers at the top of common/lua/prelude.lua.
 *
 * Each function writes the key into out (PA_KEY_MAX bytes) and returns out, so it can be used
 * inline: pa_redis_cmd(r, "HGETALL %s", pa_key_job(k, prefix, id)). A key that would not fit is
 * cut short; since no id is that long, a cut key names nothing. */
#ifndef PA_KEYS_H
#define PA_KEYS_H
#include <stddef.h>

#define PA_KEY_MAX 512
/* A task's number in its key: 6 digits ("000042"), the n-th target of its job. */
#define PA_TASK_DIGITS 6
/* Room for a task key "J:T" (a job id from the gateway and the task number). */
#define PA_TASK_KEY_MAX 128

/* ---- jobs and tasks ---- */
char *pa_key_job(char out[PA_KEY_MAX], const char *prefix, const char *job); /* job:J */
char *pa_key_task(char out[PA_KEY_MAX], const char *prefix, const char *tk); /* task:J:T */
/* task:J:T of the n-th task (from 1) of job J */
char *pa_key_task_n(char out[PA_KEY_MAX], const char *prefix, const char *job, long n);
/* The task key "J:T" (in queues, lease sets, events) of the n-th task of job J. */
char *pa_task_key(char out[PA_TASK_KEY_MAX], const char *job, long n);
/* The task number "T" alone ("000042"); out needs 24 bytes. */
char *pa_task_id(char out[24], long n);
char *pa_key_jobs(char out[PA_KEY_MAX], const char *prefix);                       /* jobs */
char *pa_key_ready(char out[PA_KEY_MAX], const char *prefix, const char *service); /* ready:S */
/* ready:S:dead: how many entries of ready:S belong to cancelled tasks (cancel.lua) */
char *pa_key_ready_dead(char out[PA_KEY_MAX], const char *prefix, const char *service);
char *pa_key_delayed(char out[PA_KEY_MAX], const char *prefix); /* delayed */
char *pa_key_leasing(char out[PA_KEY_MAX], const char *prefix); /* leasing */
char *pa_key_worker_tasks(char out[PA_KEY_MAX], const char *prefix, const char *worker);
char *pa_key_worker_status(char out[PA_KEY_MAX], const char *prefix, const char *worker);
char *pa_key_workers(char out[PA_KEY_MAX], const char *prefix);   /* workers */
char *pa_key_lease_seq(char out[PA_KEY_MAX], const char *prefix); /* lease:seq */
char *pa_key_events(char out[PA_KEY_MAX], const char *prefix);    /* events */
char *pa_key_dead(char out[PA_KEY_MAX], const char *prefix);      /* dead */
/* idem:key<N>:<Idempotency-Key>; key_index -1 without API keys */
char *pa_key_idem(char out[PA_KEY_MAX], const char *prefix, int key_index, const char *idem);
/* import:<sha256 hex>: when an import with that body was first seen (ms), for its derived ids */
char *pa_key_import(char out[PA_KEY_MAX], const char *prefix, const char *sha256_hex);
/* claim:<name>: the claim a task takes before a side effect that must not repeat */
char *pa_key_claim(char out[PA_KEY_MAX], const char *prefix, const char *name);
/* The rate-limit bucket of an API key for one kind of call ("run", "gen"):
 * rl:<kind>:key<N>, or rl:<kind>:anonymous when key_index < 0. */
char *pa_key_rate(char out[PA_KEY_MAX], const char *prefix, const char *kind, int key_index);

/* ---- campaigns and prospects ---- */
char *pa_key_campaign(char out[PA_KEY_MAX], const char *prefix, const char *id);
char *pa_key_campaigns(char out[PA_KEY_MAX], const char *prefix);
char *pa_key_prospect(char out[PA_KEY_MAX], const char *prefix, const char *id);
/* prospects, prospects:<sub> (email, seq, changes, status:<s>, industry:<i>); sub NULL for the
 * set of ids */
char *pa_key_prospects(char out[PA_KEY_MAX], const char *prefix, const char *sub);

/* ---- llm ---- */
char *pa_key_llm_stream(char out[PA_KEY_MAX], const char *prefix, const char *job); /* channel */
/* llm:cache:<name>: the response cache's entry <sha256>, or its counters "hits" and "misses" */
char *pa_key_llm_cache(char out[PA_KEY_MAX], const char *prefix, const char *name);

/* ---- form hand-offs and suppressions ---- */
/* handoffs (open: task keys scored by when they were handed off), handoffs:done (completed) */
char *pa_key_handoffs(char out[PA_KEY_MAX], const char *prefix, int done);
/* suppress:<sub>: the sets "domains" and "emails", the hash "meta", the listing's "index" */
char *pa_key_suppress(char out[PA_KEY_MAX], const char *prefix, const char *sub);

#endif
