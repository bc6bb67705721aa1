/* TEMPORARY, until workers/mcp/mcp_client.c (the CLIENT part of issue 10) is merged: mcp_client.h
 * answering every request MCP_ERR_TRANSPORT "the MCP client is not built yet", so that the worker
 * builds and its paths that need no server run. Built only while mcp_client.c is absent (see
 * CMakeLists.txt); deleted at the merge. */
#include <stdlib.h>

#include "mcp_client.h"
#include "pa_mem.h"

struct mcp_client {
    pa_loop_t *loop;
    mcp_call_t *calls;
};

struct mcp_call {
    mcp_client_t *c;
    pa_timer_t *timer;
    mcp_answer_fn fn;
    void *ud;
    mcp_call_t *next;
};

const char *mcp_status_name(mcp_status_t s)
{
    static const char *const n[] = {"ok",        "rpc_error",      "tool_error", "timeout",
                                    "transport", "protocol_error", "auth_error", "closed"};
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

mcp_client_t *mcp_client_new(const mcp_client_cfg_t *cfg, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    mcp_client_t *c = pa_calloc(1, sizeof *c);
    c->loop = cfg->loop;
    return c;
}

static void unlink_call(mcp_call_t *k)
{
    for (mcp_call_t **pp = &k->c->calls; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    pa_loop_timer_stop(k->c->loop, &k->timer);
    free(k);
}

void mcp_client_destroy(mcp_client_t **cp)
{
    mcp_client_t *c = *cp;
    if (!c) return;
    while (c->calls) unlink_call(c->calls);
    free(c);
    *cp = NULL;
}

void mcp_client_close(mcp_client_t *c, void (*done)(void *ud), void *ud)
{
    (void)c;
    if (done) done(ud);
}

const char *mcp_client_protocol(const mcp_client_t *c)
{
    (void)c;
    return NULL;
}

const json_t *mcp_client_server_info(const mcp_client_t *c)
{
    (void)c;
    return NULL;
}

int mcp_client_ready(const mcp_client_t *c)
{
    (void)c;
    return 0;
}

static void fire(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)l, (void)t;
    mcp_call_t *k = ud;
    k->timer = NULL;
    mcp_answer_fn fn = k->fn;
    void *fud = k->ud;
    unlink_call(k);
    mcp_answer_t a = {.status = MCP_ERR_TRANSPORT, .message = "the MCP client is not built yet"};
    fn(fud, &a);
}

static mcp_call_t *pending(mcp_client_t *c, mcp_answer_fn fn, void *ud)
{
    mcp_call_t *k = pa_calloc(1, sizeof *k);
    k->c = c;
    k->fn = fn;
    k->ud = ud;
    k->next = c->calls;
    c->calls = k;
    k->timer = pa_loop_timer(c->loop, 0, 0, fire, k);
    return k;
}

mcp_call_t *mcp_client_request(mcp_client_t *c, const char *method, const json_t *params,
                               long timeout_ms, mcp_answer_fn fn, void *ud)
{
    (void)method, (void)params, (void)timeout_ms;
    return pending(c, fn, ud);
}

mcp_call_t *mcp_client_list_tools(mcp_client_t *c, long timeout_ms, mcp_answer_fn fn, void *ud)
{
    (void)timeout_ms;
    return pending(c, fn, ud);
}

mcp_call_t *mcp_client_call_tool(mcp_client_t *c, const char *name, const json_t *arguments,
                                 long timeout_ms, mcp_answer_fn fn, void *ud)
{
    (void)name, (void)arguments, (void)timeout_ms;
    return pending(c, fn, ud);
}

void mcp_call_cancel(mcp_call_t *call, const char *reason)
{
    (void)reason;
    if (call) unlink_call(call);
}

size_t mcp_client_pending(const mcp_client_t *c)
{
    size_t n = 0;
    for (const mcp_call_t *k = c->calls; k; k = k->next) n++;
    return n;
}

size_t mcp_client_memory(const mcp_client_t *c)
{
    return sizeof *c + mcp_client_pending(c) * sizeof(mcp_call_t);
}
