/* libFuzzer target for the MCP authorization client's parsers (workers/mcp/mcp_oauth_parse.c).
 *
 * Input: one byte choosing the parser, then the text (WWW-Authenticate value, protected-resource
 * metadata, authorization-server metadata, token response, registration response, a Location,
 * a URL for the discovery helpers, two scope sets split at the first NUL). Checks: a refusal
 * leaves its output empty; what is accepted holds what the type promises (a resource and an
 * authorization server, an issuer and a token endpoint, a token or an error, a client_id);
 * the scope union holds both sets; nothing leaks (ASan).
 *
 * Sources: this file, workers/mcp/mcp_oauth_parse.c, common/pa_buf.c; flags -Iworkers/mcp
 * -Icommon plus jansson's cflags; libs jansson and libcrypto. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_oauth_parse.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_mcp_oauth: check failed: %s: ", #cond);                          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned which = data[0] % 8;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char *text = malloc(len + 1);
    memcpy(text, body, len);
    text[len] = '\0';
    char err[128] = "";
    switch (which) {
    case 0: {
        mcp_oauth_challenge_t c;
        if (mcp_oauth_parse_challenge(text, "Bearer", &c) < 0)
            CHECK(!c.scope && !c.resource_metadata && !c.error, "a refusal with values");
        else if (c.scope) CHECK(strlen(c.scope) <= MCP_OAUTH_MAX_VALUE, "a long scope");
        mcp_oauth_challenge_free(&c);
        break;
    }
    case 1: {
        mcp_oauth_prm_t p;
        if (mcp_oauth_parse_prm(body, len, &p, err, sizeof err) == 0)
            CHECK(p.resource && p.n_as >= 1 && p.authorization_servers[0], "an empty PRM");
        else CHECK(!p.resource && err[0], "a refusal with a resource or without a reason");
        mcp_oauth_prm_free(&p);
        break;
    }
    case 2: {
        mcp_oauth_asm_t m;
        if (mcp_oauth_parse_as_metadata(body, len, &m, err, sizeof err) == 0)
            CHECK(m.issuer && m.token_endpoint, "metadata without its parts");
        else CHECK(!m.issuer && err[0], "a refusal with an issuer or without a reason");
        mcp_oauth_asm_free(&m);
        break;
    }
    case 3: {
        mcp_oauth_token_t t;
        if (mcp_oauth_parse_token(body, len, &t, err, sizeof err) == 0)
            CHECK(!!t.access_token != !!t.error, "a token and an error, or neither");
        else CHECK(!t.access_token && err[0], "a refusal with a token");
        mcp_oauth_token_free(&t);
        break;
    }
    case 4: {
        mcp_oauth_reg_t r;
        if (mcp_oauth_parse_registration(body, len, &r, err, sizeof err) == 0)
            CHECK(r.client_id && r.client_id[0], "a registration without client_id");
        else CHECK(!r.client_id, "a refusal with a client_id");
        mcp_oauth_reg_free(&r);
        break;
    }
    case 5: {
        mcp_oauth_redirect_t r;
        if (mcp_oauth_parse_redirect(text, &r) < 0) CHECK(!r.code && !r.state, "a refusal");
        mcp_oauth_redirect_free(&r);
        break;
    }
    case 6: {
        char *u[3] = {0};
        size_t n = mcp_oauth_prm_urls(text, u);
        CHECK(n <= 2, "too many PRM URLs");
        for (size_t i = 0; i < n; i++) {
            CHECK(strstr(u[i], "/.well-known/oauth-protected-resource"), "%s", u[i]);
            free(u[i]);
        }
        n = mcp_oauth_as_urls(text, u);
        CHECK(n <= 3, "too many AS URLs");
        for (size_t i = 0; i < n; i++) free(u[i]);
        char *v[2] = {0};
        n = mcp_oauth_prm_urls(text, v);
        CHECK(mcp_oauth_resource_matches(text, text) == (n > 0) || strchr(text, '#'),
              "a URL that does not name itself");
        for (size_t i = 0; i < n; i++) free(v[i]);
        char *e = mcp_oauth_urlencode(text);
        CHECK(strlen(e) >= strlen(text), "an encoding shorter than its text");
        free(e);
        break;
    }
    default: {
        const char *b = memchr(text, '\0', len) ? text : "";
        const char *a = text;
        if (len && strlen(text) < len) b = text + strlen(text) + 1;
        char *u = mcp_oauth_scope_union(a, b);
        CHECK(mcp_oauth_scope_subset(a, u) && mcp_oauth_scope_subset(b, u), "a lost scope");
        free(u);
        char out[64];
        mcp_oauth_pkce_challenge(text, out);
        CHECK(strlen(out) == 43, "a challenge of %zu characters", strlen(out));
        break;
    }
    }
    free(text);
    return 0;
}
