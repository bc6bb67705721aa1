/* The pure parts of the MCP authorization client (mcp_oauth.c): parsers of what servers send
 * (WWW-Authenticate challenges, protected-resource metadata RFC 9728, authorization-server
 * metadata RFC 8414 / OpenID discovery, token and registration responses, the query of an
 * authorization response's Location), the discovery URLs, scope sets, PKCE S256 and base64url.
 * No I/O; unit-tested (tests/unit/test_mcp_oauth_parse.c) and fuzzed
 * (tests/fuzz/fuzz_mcp_oauth.c). Every string out is malloc'd and freed by the *_free call. */
#ifndef MCP_OAUTH_PARSE_H
#define MCP_OAUTH_PARSE_H
#include <stddef.h>

/* Bounds of what is accepted (longer values are refused). */
#define MCP_OAUTH_MAX_VALUE 8192 /* one parameter, URL or token */

/* ---- WWW-Authenticate (RFC 9110 §11.6.1) ---- */

typedef struct {
    char *resource_metadata; /* each NULL when absent */
    char *scope;
    char *error;
    char *error_description;
    char *realm;
} mcp_oauth_challenge_t;

/* The first challenge of scheme (case-insensitive, e.g. "Bearer") in a WWW-Authenticate value
 * that may hold several challenges (comma-separated, quoted strings with \-escapes, token68
 * credentials): 0 with its parameters in *out, -1 when there is none or the value is malformed
 * there (*out is then empty). */
int mcp_oauth_parse_challenge(const char *value, const char *scheme, mcp_oauth_challenge_t *out);
void mcp_oauth_challenge_free(mcp_oauth_challenge_t *c);

/* ---- protected-resource metadata (RFC 9728) ---- */

typedef struct {
    char *resource;
    char **authorization_servers; /* n_as of them, at least one */
    size_t n_as;
    char *scopes_supported; /* space-separated, NULL when absent */
} mcp_oauth_prm_t;

/* 0, or -1 with err (not an object, no resource, no authorization server, a bad type). */
int mcp_oauth_parse_prm(const char *body, size_t len, mcp_oauth_prm_t *out, char *err,
                        size_t errlen);
void mcp_oauth_prm_free(mcp_oauth_prm_t *p);

/* ---- authorization-server metadata (RFC 8414, OpenID Connect discovery) ---- */

enum {
    MCP_OAUTH_AUTH_NONE = 1u,
    MCP_OAUTH_AUTH_BASIC = 2u, /* client_secret_basic */
    MCP_OAUTH_AUTH_POST = 4u,  /* client_secret_post */
    MCP_OAUTH_AUTH_JWT = 8u,   /* private_key_jwt */
};

typedef struct {
    char *issuer;
    char *authorization_endpoint; /* NULL when absent (a client-credentials-only server) */
    char *token_endpoint;
    char *registration_endpoint; /* NULL: no dynamic registration */
    char *scopes_supported;      /* space-separated, NULL when absent */
    unsigned auth_methods;       /* MCP_OAUTH_AUTH_*; absent: MCP_OAUTH_AUTH_BASIC (RFC 8414) */
    int cimd_supported;          /* client_id_metadata_document_supported */
    int iss_supported;           /* authorization_response_iss_parameter_supported */
    int s256_supported;          /* code_challenge_methods_supported has S256 (absent: 0) */
    int refresh_supported;       /* grant_types_supported has refresh_token (absent: 1) */
    int dpop_es256;              /* dpop_signing_alg_values_supported has ES256 (RFC 9449) */
} mcp_oauth_asm_t;

/* 0, or -1 with err (no issuer or token_endpoint, a bad type). */
int mcp_oauth_parse_as_metadata(const char *body, size_t len, mcp_oauth_asm_t *out, char *err,
                                size_t errlen);
void mcp_oauth_asm_free(mcp_oauth_asm_t *m);

/* ---- token endpoint (RFC 6749 §5) and registration (RFC 7591) responses ---- */

typedef struct {
    char *access_token; /* success */
    char *token_type;   /* as given ("Bearer", "N_A" for an ID-JAG...) */
    char *refresh_token;
    char *scope;
    long expires_in;         /* seconds, 0 when absent */
    char *error;             /* an error response: the error code */
    char *error_description; /* may be NULL */
} mcp_oauth_token_t;

/* 0 with access_token (success) or error (an error response, whatever the status), -1 with err
 * when the body is neither. The error description is never a secret; the token is one. */
int mcp_oauth_parse_token(const char *body, size_t len, mcp_oauth_token_t *out, char *err,
                          size_t errlen);
void mcp_oauth_token_free(mcp_oauth_token_t *t);

typedef struct {
    char *client_id;
    char *client_secret;              /* NULL: a public client */
    char *token_endpoint_auth_method; /* NULL when absent */
} mcp_oauth_reg_t;

int mcp_oauth_parse_registration(const char *body, size_t len, mcp_oauth_reg_t *out, char *err,
                                 size_t errlen);
void mcp_oauth_reg_free(mcp_oauth_reg_t *r);

/* ---- the authorization response (a redirect's Location) ---- */

typedef struct {
    char *code, *state, *iss, *error, *error_description; /* percent-decoded, NULL when absent */
} mcp_oauth_redirect_t;

/* The query of location (up to '#'): 0, or -1 when there is no query, a parameter of interest
 * appears twice (RFC 9207 §2), or a value is too long or decodes to a NUL. */
int mcp_oauth_parse_redirect(const char *location, mcp_oauth_redirect_t *out);
void mcp_oauth_redirect_free(mcp_oauth_redirect_t *r);

/* ---- URLs ---- */

/* Splits an http(s) URL into its origin ("https://host:port", as written) and its path (from
 * the first '/' after the authority up to '?' or '#'; "" when none). 0, or -1 when the URL is
 * not http:// or https:// with a host. Caller frees both. */
int mcp_oauth_url_split(const char *url, char **origin, char **path);
/* The protected-resource metadata URLs to try for a server URL, in order: the path-inserted
 * one (when the URL has a path other than "/"), then the root one. Returns how many (0 for a
 * bad URL); out[i] are freed by the caller. */
size_t mcp_oauth_prm_urls(const char *server_url, char *out[2]);
/* The authorization-server metadata URLs to try for an issuer, in order (MCP 2025-11-25):
 * with a path: oauth-authorization-server path-inserted, openid-configuration path-inserted,
 * openid-configuration path-appended; without: oauth-authorization-server, then
 * openid-configuration. Returns how many (0 for a bad issuer). */
size_t mcp_oauth_as_urls(const char *issuer, char *out[3]);
/* 1 when resource (from protected-resource metadata) names server_url: the same origin (scheme
 * and host without case) and a path that is server_url's or a prefix of it at a '/'. */
int mcp_oauth_resource_matches(const char *resource, const char *server_url);
/* Percent-encodes s for a query or form value (unreserved characters kept) into a new string. */
char *mcp_oauth_urlencode(const char *s);

/* ---- scopes (space-separated sets) ---- */

/* a ∪ b in order, without repeats (NULL when both are empty); caller frees. */
char *mcp_oauth_scope_union(const char *a, const char *b);
/* 1 when every scope of a is in b (an empty a is a subset of anything). */
int mcp_oauth_scope_subset(const char *a, const char *b);
/* 1 when scope s is in set. */
int mcp_oauth_scope_has(const char *set, const char *s);

/* ---- base64 and PKCE ---- */

/* base64url without padding of n bytes into out (room for 4 * ((n + 2) / 3) + 1). */
void mcp_oauth_b64url(const unsigned char *in, size_t n, char *out);
/* Standard base64 with padding (for Basic credentials); caller frees. */
char *mcp_oauth_b64(const unsigned char *in, size_t n);
/* The S256 code challenge of verifier: base64url(SHA-256(verifier)), 43 characters + NUL. */
void mcp_oauth_pkce_challenge(const char *verifier, char out[44]);

#endif
