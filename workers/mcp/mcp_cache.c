/* The mcp workers' result cache in Redis; see mcp_cache.h. */
#include "mcp_cache.h"

#include <stdlib.h>
#include <string.h>

#include "pa_mem.h"

extern const char mcp_lua_cache_get[];
static pa_script_t cache_get_script = PA_SCRIPT(mcp_lua_cache_get);

typedef struct {
    mcp_cache_fn fn;
    void *ud;
} wait_t;

static void on_value(redisReply *rep, void *ud)
{
    wait_t *w = ud;
    if (rep && rep->type == REDIS_REPLY_STRING) w->fn(rep->str, rep->len, w->ud);
    else w->fn(NULL, 0, w->ud);
    free(w);
}

int mcp_cache_get(pa_aredis_t *r, const char *prefix, const char *key, mcp_cache_fn fn, void *ud)
{
    wait_t *w = pa_malloc(sizeof *w);
    w->fn = fn;
    w->ud = ud;
    const char *argv[] = {prefix, key};
    if (pa_aredis_eval(r, &cache_get_script, on_value, w, 0, 2, argv, NULL) == 0) return 0;
    free(w);
    return -1;
}

void mcp_cache_put(pa_aredis_t *r, const char *key, const char *value, long long ttl_ms)
{
    size_t len = strlen(value);
    if (ttl_ms <= 0 || len > MCP_CACHE_MAX_VALUE) return;
    pa_aredis_cmd(r, NULL, NULL, "SET %s %b PX %lld", key, value, len, ttl_ms);
}
