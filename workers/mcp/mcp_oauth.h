/* Authorization for remote MCP servers: the MCP authorization specification (OAuth 2.1), the
 * client side, for a headless daemon. An mcp_oauth_t is an mcp_auth_ops_t provider
 * (mcp_client.h): the client asks it for the Authorization header and tells it of each 401/403.
 *
 * On a challenge: protected-resource metadata (RFC 9728) from the WWW-Authenticate
 * resource_metadata parameter, else the well-known paths (with the resource's path, then the
 * root); its resource must be the server's URL; authorization-server metadata (RFC 8414 and
 * OpenID Connect discovery, path-inserted, then OpenID path-appended), whose issuer must be the one
 * asked for; scopes from WWW-Authenticate, else the metadata's scopes_supported, else none (step-up
 * on 403 insufficient_scope, a bounded number of times); the client's identity: pre-registered
 * (client_id, client_secret), else a client ID metadata document URL when the server supports
 * them, else dynamic registration (RFC 7591); the grant: client_credentials when configured,
 * else the authorization code with PKCE S256 (headless: the authorization request is sent by
 * the client itself and the code read from the redirect's Location, checking state and, per
 * RFC 9207, iss; or, as extensions, the JWT-bearer grant, private_key_jwt, and the
 * enterprise-managed token exchange); the token endpoint's client authentication as the metadata
 * allows (client_secret_basic, client_secret_post, none); refresh_token when the server gave one
 * (offline_access asked only when listed). Tokens are never logged; a store hook keeps them
 * (the worker: in Redis with a TTL).
 *
 * The parsers are pure, unit-tested and fuzzed. */
#ifndef MCP_OAUTH_H
#define MCP_OAUTH_H
#include <jansson.h>
#include <stddef.h>

#include "mcp_client.h"
#include "pa_http.h"
#include "pa_loop.h"

typedef struct mcp_oauth mcp_oauth_t;

typedef struct {
    pa_loop_t *loop;
    pa_http_t *http;
    const char *client_id;           /* pre-registered (NULL: CIMD or dynamic registration) */
    const char *client_secret;       /* with client_id, or NULL (a public client) */
    const char *client_metadata_url; /* the client ID metadata document's URL, or NULL */
    const char *client_name;         /* for registration (NULL: "prospect-ai") */
    const char *redirect_uri;        /* NULL: "http://localhost:0/callback" style default */
    int client_credentials;          /* 1: the client_credentials grant (machine to machine) */
    const char *scope;               /* forces the scope (NULL: discovered) */
    pa_http_connect_fn on_connect;   /* checks every address; NULL: none */
    /* Token store (NULL: memory only). key names the server and the resource; value is a JSON
     * text holding the tokens; ttl_s its lifetime. load answers through cb, from the loop. */
    void (*store)(void *ud, const char *key, const char *value, long ttl_s);
    void (*load)(void *ud, const char *key, void (*cb)(void *cb_ud, const char *value),
                 void *cb_ud);
    void *store_ud;
    /* Extensions (NULL: unused). private_key_jwt client authentication (RFC 7523 §2.2) with
     * this PEM private key (EC P-256 for ES256, RSA for RS256), instead of client_secret: */
    const char *private_key_pem;
    const char *signing_alg; /* "ES256" (NULL) or "RS256" */
    /* The JWT-bearer grant (RFC 7523 §2.1) with this assertion (workload identity): */
    const char *assertion;
    /* Enterprise-managed authorization (SEP-990): idp_id_token exchanged at the identity
     * provider's token endpoint for an ID-JAG (RFC 8693), then the JWT-bearer grant with it at
     * the authorization server (client_id and client_secret authenticate there): */
    const char *idp_token_endpoint, *idp_id_token, *idp_client_id;
} mcp_oauth_cfg_t;

mcp_oauth_t *mcp_oauth_new(const mcp_oauth_cfg_t *cfg, char *err, size_t errlen);
void mcp_oauth_destroy(mcp_oauth_t **o);
/* The provider's operations; pass the mcp_oauth_t as mcp_client_cfg_t.auth_self. */
const mcp_auth_ops_t *mcp_oauth_ops(void);

#endif
