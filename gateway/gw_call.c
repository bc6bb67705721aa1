/* One-task call jobs answered on the suspended request; see gw_call.h. */
#include "gw_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_dispatch.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_stages.h"

int gw_call_create(gw_t *gw, gw_req_t *r, const gw_call_t *c, const char *jid, const char *input,
                   pa_jobs_create_out_t *out)
{
    char bkey[PA_KEY_MAX];
    int stage = pa_stage_find(c->stage);
    if (stage < 0) return -1;
    pa_jobs_create_in_t in = {.prefix = gw->cfg.prefix,
                              .job = jid,
                              .idem_ttl_s = 60,
                              .max_queued = gw->cfg.max_queued,
                              .ctx = c->ctx,
                              .stages = c->stage,
                              .retention_s = 3600,
                              .unlisted = true,
                              .n = 1,
                              .targets = &c->target,
                              .inputs = &input,
                              .rate_key =
                                  pa_key_rate(bkey, gw->cfg.prefix, c->rate, gw_key_index(r)),
                              .rate_per_ms = (double)c->rate_per_min / 60000.0,
                              .burst = c->rate_per_min / 6 + 1};
    in.max_attempts[stage] = c->max_attempts;
    char err[256];
    if (pa_jobs_create_call(gw_redis(gw), &in, out, err, sizeof err) == 0) return 0;
    if (pa_redis_connected(gw_redis(gw)))
        pa_error("call job not created", PA_S("stage", c->stage), PA_S("error", err));
    return -1;
}

/* A request waiting for its job's end (r->ctx). */
typedef struct {
    gw_events_t *events;
    gw_waiter_t *waiter;
    gw_call_done_fn done;
    char job[72];
} call_wait_t;

static void wait_free(void *ctx)
{
    call_wait_t *w = ctx;
    gw_events_unwait(w->events, &w->waiter);
    free(w);
}

/* The suspended request is resumed: the job ended, or the deadline passed. */
static void resumed(gw_t *gw, gw_req_t *r)
{
    call_wait_t *w = r->ctx;
    int timed_out = w->waiter && gw_waiter_timed_out(w->waiter);
    gw_events_unwait(gw->events, &w->waiter);
    w->done(gw, r, w->job, timed_out);
}

void gw_call_poke_if_over(gw_t *gw, const char *jid, gw_waiter_t *waiter)
{
    char jk[PA_KEY_MAX];
    redisReply *st =
        pa_redis_cmd(gw_redis(gw), "HGET %s status", pa_key_job(jk, gw->cfg.prefix, jid));
    int over = st && st->type == REDIS_REPLY_STRING &&
               (strcmp(st->str, "completed") == 0 || strcmp(st->str, "cancelled") == 0);
    if (st) freeReplyObject(st);
    if (over) gw_events_poke(gw->events, waiter);
}

void gw_call_await(gw_t *gw, gw_req_t *r, const char *jid, uint64_t deadline, gw_call_done_fn done)
{
    if (gw->dispatch) gw_dispatch_wake(gw->dispatch);
    call_wait_t *w = pa_calloc(1, sizeof *w);
    w->events = gw->events;
    w->done = done;
    snprintf(w->job, sizeof w->job, "%s", jid);
    r->ctx = w;
    r->ctx_free = wait_free;
    r->cont = resumed;
    w->waiter = gw_events_wait_job(gw->events, r, jid, deadline);
    gw_call_poke_if_over(gw, jid, w->waiter);
}
