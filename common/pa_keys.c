/* Redis key names (pa_keys.h). */
#include "pa_keys.h"

#include <stdarg.h>
#include <stdio.h>

static char *fmt(char *out, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static char *fmt(char *out, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, len, f, ap);
    va_end(ap);
    return out;
}

#define TASK_FMT "%0*ld"

char *pa_key_job(char out[PA_KEY_MAX], const char *prefix, const char *job)
{
    return fmt(out, PA_KEY_MAX, "%sjob:%s", prefix, job);
}

char *pa_key_task(char out[PA_KEY_MAX], const char *prefix, const char *tk)
{
    return fmt(out, PA_KEY_MAX, "%stask:%s", prefix, tk);
}

char *pa_key_task_n(char out[PA_KEY_MAX], const char *prefix, const char *job, long n)
{
    return fmt(out, PA_KEY_MAX, "%stask:%s:" TASK_FMT, prefix, job, PA_TASK_DIGITS, n);
}

char *pa_task_key(char out[PA_TASK_KEY_MAX], const char *job, long n)
{
    return fmt(out, PA_TASK_KEY_MAX, "%s:" TASK_FMT, job, PA_TASK_DIGITS, n);
}

char *pa_task_id(char out[24], long n)
{
    return fmt(out, 24, TASK_FMT, PA_TASK_DIGITS, n);
}

char *pa_key_jobs(char out[PA_KEY_MAX], const char *prefix)
{
    return fmt(out, PA_KEY_MAX, "%sjobs", prefix);
}

char *pa_key_ready(char out[PA_KEY_MAX], const char *prefix, const char *service)
{
    return fmt(out, PA_KEY_MAX, "%sready:%s", prefix, service);
}

char *pa_key_ready_dead(char out[PA_KEY_MAX], const char *prefix, const char *service)
{
    return fmt(out, PA_KEY_MAX, "%sready:%s:dead", prefix, service);
}

char *pa_key_delayed(char out[PA_KEY_MAX], const char *prefix)
{
    return fmt(out, PA_KEY_MAX, "%sdelayed", prefix);
}

char *pa_key_leasing(char out[PA_KEY_MAX], const char *prefix)
{
    return fmt(out, PA_KEY_MAX, "%sleasing", prefix);
}

char *pa_key_worker_tasks(char out[PA_KEY_MAX], const char *prefix, const char *worker)
{
    return fmt(out, PA_KEY_MAX, "%sworker:%s:tasks", prefix, worker);
}

char *pa_key_worker_status(char out[PA_KEY_MAX], const char *prefix, const char *worker)
{
    return fmt(out, PA_KEY_MAX, "%sworker:%s:status", prefix, worker);
}

char *pa_key_workers(char out[PA_KEY_MAX], const char *prefix)
{
    return fmt(out, PA_KEY_MAX, "%sworkers", prefix);
}

char *pa_key_lease_seq(char out[PA_KEY_MAX], const char *prefix)
{
    return fmt(out, PA_KEY_MAX, "%slease:seq", prefix);
}

char *pa_key_events(char out[PA_KEY_MAX], const char *prefix)
{
    return fmt(out, PA_KEY_MAX, "%sevents", prefix);
}

char *pa_key_dead(char out[PA_KEY_MAX], const char *prefix)
{
    return fmt(out, PA_KEY_MAX, "%sdead", prefix);
}

char *pa_key_import(char out[PA_KEY_MAX], const char *prefix, const char *sha256_hex)
{
    return fmt(out, PA_KEY_MAX, "%simport:%s", prefix, sha256_hex);
}

char *pa_key_idem(char out[PA_KEY_MAX], const char *prefix, int key_index, const char *idem)
{
    return fmt(out, PA_KEY_MAX, "%sidem:key%d:%s", prefix, key_index, idem);
}

char *pa_key_claim(char out[PA_KEY_MAX], const char *prefix, const char *name)
{
    return fmt(out, PA_KEY_MAX, "%sclaim:%s", prefix, name);
}

char *pa_key_rate(char out[PA_KEY_MAX], const char *prefix, const char *kind, int key_index)
{
    if (key_index < 0) return fmt(out, PA_KEY_MAX, "%srl:%s:anonymous", prefix, kind);
    return fmt(out, PA_KEY_MAX, "%srl:%s:key%d", prefix, kind, key_index);
}

char *pa_key_campaign(char out[PA_KEY_MAX], const char *prefix, const char *id)
{
    return fmt(out, PA_KEY_MAX, "%scampaign:%s", prefix, id);
}

char *pa_key_campaigns(char out[PA_KEY_MAX], const char *prefix)
{
    return fmt(out, PA_KEY_MAX, "%scampaigns", prefix);
}

char *pa_key_prospect(char out[PA_KEY_MAX], const char *prefix, const char *id)
{
    return fmt(out, PA_KEY_MAX, "%sprospect:%s", prefix, id);
}

char *pa_key_prospects(char out[PA_KEY_MAX], const char *prefix, const char *sub)
{
    if (!sub) return fmt(out, PA_KEY_MAX, "%sprospects", prefix);
    return fmt(out, PA_KEY_MAX, "%sprospects:%s", prefix, sub);
}

char *pa_key_llm_stream(char out[PA_KEY_MAX], const char *prefix, const char *job)
{
    return fmt(out, PA_KEY_MAX, "%sllm:stream:%s", prefix, job);
}

char *pa_key_llm_cache(char out[PA_KEY_MAX], const char *prefix, const char *name)
{
    return fmt(out, PA_KEY_MAX, "%sllm:cache:%s", prefix, name);
}

char *pa_key_handoffs(char out[PA_KEY_MAX], const char *prefix, int done)
{
    return fmt(out, PA_KEY_MAX, "%shandoffs%s", prefix, done ? ":done" : "");
}

char *pa_key_suppress(char out[PA_KEY_MAX], const char *prefix, const char *sub)
{
    return fmt(out, PA_KEY_MAX, "%ssuppress:%s", prefix, sub);
}
