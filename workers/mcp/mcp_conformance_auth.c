/* The conformance driver's authorization provider: see mcp_conformance_auth.h. */
#include "mcp_conformance_auth.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int mcp_conformance_auth(pa_loop_t *loop, pa_http_t *http, const char *scenario,
                         const char *context_json, mcp_oauth_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!scenario || strncmp(scenario, "auth/", 5) != 0) return 0;
    json_t *ctx = NULL;
    if (context_json && *context_json) {
        ctx = json_loads(context_json, 0, NULL);
        if (!json_is_object(ctx)) {
            json_decref(ctx);
            snprintf(err, errlen, "MCP_CONFORMANCE_CONTEXT is not a JSON object");
            return -1;
        }
    }
    const char *name = scenario + 5;
    mcp_oauth_cfg_t cfg = {
        .loop = loop,
        .http = http,
        .client_metadata_url = MCP_CONFORMANCE_CIMD_URL,
        .client_name = "prospect-mcp-conformance",
    };
    const char *id = json_string_value(json_object_get(ctx, "client_id"));
    const char *secret = json_string_value(json_object_get(ctx, "client_secret"));
    if (strcmp(name, "client-credentials-basic") == 0) {
        cfg.client_id = id;
        cfg.client_secret = secret;
        cfg.client_credentials = 1;
    } else if (strcmp(name, "client-credentials-jwt") == 0) {
        cfg.client_id = id;
        cfg.private_key_pem = json_string_value(json_object_get(ctx, "private_key_pem"));
        cfg.signing_alg = json_string_value(json_object_get(ctx, "signing_algorithm"));
        cfg.client_credentials = 1;
    } else if (strcmp(name, "wif-jwt-bearer") == 0) {
        cfg.client_id = id;
        cfg.assertion = json_string_value(json_object_get(ctx, "valid_jwt"));
    } else if (strcmp(name, "enterprise-managed-authorization") == 0) {
        cfg.client_id = id;
        cfg.client_secret = secret;
        cfg.idp_token_endpoint = json_string_value(json_object_get(ctx, "idp_token_endpoint"));
        cfg.idp_id_token = json_string_value(json_object_get(ctx, "idp_id_token"));
        cfg.idp_client_id = json_string_value(json_object_get(ctx, "idp_client_id"));
    } else if (strcmp(name, "pre-registration") == 0) {
        cfg.client_id = id;
        cfg.client_secret = secret;
    }
    /* auth/dpop, auth/dpop-nonce: nothing to configure (DPoP follows the server's DPoP
     * challenge; the client sends the proofs through mcp_auth_ops_t.extra_header). */
    *out = mcp_oauth_new(&cfg, err, errlen);
    json_decref(ctx);
    return *out ? 0 : -1;
}
