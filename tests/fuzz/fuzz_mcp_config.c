/* libFuzzer target for the MCP_SERVERS file (workers/mcp/mcp_config.c).
 *
 * Input: the file. Checks: a refusal names its field at the start of its message; an accepted
 * file has servers with names, a URL or a command as their transport needs, headers only on
 * remote servers, and every mapped tool's template renders (with variables and without) to an
 * object; the environment check runs; nothing leaks (ASan).
 *
 * Sources: this file, workers/mcp/mcp_config.c, workers/mcp/mcp_jsonrpc.c, common/pa_buf.c,
 * common/pa_utf8.c; flags -Iworkers/mcp -Icommon plus jansson's cflags; libs jansson. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_config.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_mcp_config: check failed: %s: ", #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static json_t *vars[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vars[0]) {
        vars[0] = json_pack("{s:s,s:s,s:i}", "domain", "acme.example", "query", "cto", "limit", 5);
        vars[1] = json_object();
    }
    mcp_config_t *c = NULL;
    mcp_config_err_t err;
    if (mcp_config_parse((const char *)data, size, &c, &err) < 0) {
        CHECK(!c, "a refusal with a config");
        CHECK(err.message[0], "a refusal without a message");
        CHECK(strncmp(err.message, err.field, strlen(err.field)) == 0,
              "the message '%s' does not start with the field '%s'", err.message, err.field);
        return 0;
    }
    CHECK(c && c->nservers <= MCP_CONFIG_MAX_SERVERS, "servers");
    for (size_t i = 0; i < c->nservers; i++) {
        const mcp_server_conf_t *s = &c->servers[i];
        CHECK(s->name && *s->name, "a server without a name");
        CHECK(mcp_config_server(c, s->name) == s, "names are not unique");
        if (s->transport == MCP_TRANSPORT_STDIO)
            CHECK(s->command && !s->url && !s->nheaders, "stdio");
        else CHECK(s->url && !s->command && !s->nenv && !s->nargs, "remote");
        CHECK(!s->protocol_version || mcp_protocol_version_known(s->protocol_version), "version");
        CHECK(s->timeout_ms >= 1 && s->timeout_ms <= 600000, "timeout");
        for (int t = 0; t < MCP_TOOL_COUNT; t++) {
            if (!s->tools[t].tool) continue;
            for (int k = 0; k < 2; k++) {
                char e[128];
                json_t *r = mcp_config_render_args(s->tools[t].arguments, vars[k], e, sizeof e);
                CHECK(json_is_object(r), "a checked template did not render: %s", e);
                json_decref(r);
            }
        }
    }
    mcp_config_check_env(c, &err);
    mcp_config_free(&c);
    CHECK(!c, "not cleared");
    return 0;
}
