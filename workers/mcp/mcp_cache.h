/* The mcp workers' result cache in Redis (docs/redis-keys.md, "MCP workers"): the result of a
 * tools/call per server, tool and arguments (mcp_cache_key in mcp_result.h), on the worker
 * runtime's non-blocking connection. Every answer comes from the loop, never inside the call. */
#ifndef MCP_CACHE_H
#define MCP_CACHE_H
#include <stddef.h>

#include "pa_aredis.h"

/* Results larger than this are not cached. */
#define MCP_CACHE_MAX_VALUE (256 * 1024)

/* The cached value (borrowed for the call), or NULL: a miss, or Redis did not answer. */
typedef void (*mcp_cache_fn)(const char *v, size_t len, void *ud);

/* Looks key up; counts the hit or the miss in <prefix>mcp:cache:hits / :misses. 0: fn will be
 * called once, from the loop; -1 (the connection is being destroyed): fn is never called. */
int mcp_cache_get(pa_aredis_t *r, const char *prefix, const char *key, mcp_cache_fn fn, void *ud);
/* Stores value for ttl_ms (nothing when ttl_ms <= 0 or the value is larger than
 * MCP_CACHE_MAX_VALUE); best effort. */
void mcp_cache_put(pa_aredis_t *r, const char *key, const char *value, long long ttl_ms);

#endif
