/* PLACEHOLDER until OAUTH's mcp_conformance_auth.c is merged (it replaces this file whole):
 * no scenario gets an authorization provider. The weak mcp_oauth_ops/mcp_oauth_destroy let the
 * driver link before mcp_oauth.c exists; the real ones override them. */
#include "mcp_conformance_auth.h"

int mcp_conformance_auth(pa_loop_t *loop, pa_http_t *http, const char *scenario,
                         const char *context_json, mcp_oauth_t **out, char *err, size_t errlen)
{
    *out = NULL;
    return 0;
}

__attribute__((weak)) const mcp_auth_ops_t *mcp_oauth_ops(void)
{
    return NULL;
}

__attribute__((weak)) void mcp_oauth_destroy(mcp_oauth_t **o)
{
    if (o) *o = NULL;
}
