/* Authorization for remote MCP servers, the client side: see mcp_oauth.h.
 *
 * One flow at a time: challenges that arrive while it runs wait for it (waiters). The flow:
 *   PRM      protected-resource metadata: the challenge's resource_metadata, else the
 *            well-known URLs (path-inserted, root); its resource must name the server's URL
 *   ASM      authorization-server metadata of its first authorization server, at the
 *            well-known URLs of RFC 8414 / OpenID discovery; its issuer must be the one asked
 *   REGISTER dynamic client registration when the client has no identity at that issuer
 *   AUTHORIZE the authorization request (PKCE S256, state, resource, scope) sent by the client
 *            itself; the code read from the redirect's Location (state and iss checked)
 *   TOKEN    the token request (authorization_code, refresh_token or client_credentials)
 * Tokens and secrets are never logged nor put in an error message. */
#include "mcp_oauth.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcp_oauth_parse.h"
#include "pa_buf.h"

#define OAUTH_TIMEOUT_MS 15000
#define OAUTH_MAX_BODY (256 * 1024)
#define OAUTH_ROUNDS_MAX 3           /* authorization requests ... */
#define OAUTH_ROUNDS_WINDOW_MS 60000 /* ... within this window */
#define DEFAULT_REDIRECT "http://127.0.0.1:33418/callback"

typedef struct waiter {
    mcp_auth_done_fn done;
    void *ud;
    struct waiter *next;
} waiter_t;

typedef enum { GRANT_CODE, GRANT_REFRESH, GRANT_CLIENT, GRANT_JWT, GRANT_EXCHANGE } grant_t;

#define GRANT_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"

typedef struct load_ctx {
    mcp_oauth_t *o; /* NULL once the provider is gone */
} load_ctx_t;

struct mcp_oauth {
    pa_loop_t *loop;
    pa_http_t *http;
    char *client_id, *client_secret, *client_metadata_url, *client_name, *redirect_uri, *scope;
    int client_credentials;
    pa_http_connect_fn on_connect;
    void (*store)(void *ud, const char *key, const char *value, long ttl_s);
    void (*load)(void *ud, const char *key, void (*cb)(void *cb_ud, const char *value),
                 void *cb_ud);
    void *store_ud;
    char *private_key_pem, *signing_alg, *assertion;
    char *idp_token_endpoint, *idp_id_token, *idp_client_id;
    int assertion_refused;    /* a JWT-bearer grant failed: not tried again (SEP-1933) */
    int legacy, legacy_tried; /* discovery without protected-resource metadata (2025-03-26) */
    int reachable;            /* an HTTP answer came during this discovery */
    /* DPoP (RFC 9449): used when the server's challenge is DPoP and the authorization server
     * signs ES256; one key per provider, made at first use */
    EVP_PKEY *dpop_key;
    char *dpop_header; /* the proofs' JOSE header (with the public key) */
    int dpop_challenged, dpop_on, token_dpop, as_nonce_tried;
    char *as_nonce, *rs_nonce, *extra;
    char *code; /* the authorization code, kept for a retry with the server's nonce */

    /* what discovery found */
    char *server_url; /* the URL challenged */
    char *resource;   /* the protected-resource metadata's resource */
    char *issuer;     /* its authorization server */
    char *prm_scopes;
    mcp_oauth_asm_t as;
    /* the identity at reg_issuer (registered, or a client ID metadata document URL) */
    char *reg_issuer, *reg_client_id, *reg_client_secret, *reg_method;
    /* the token */
    char *access_token, *refresh_token, *token_scope, *token_issuer, *header;
    uint64_t expires_at_ms; /* loop time; 0: none */
    char *last_scope;       /* the scope last asked for */
    int loaded;             /* the store was asked */
    load_ctx_t *loading;

    /* the flow */
    int busy;
    waiter_t *waiters;
    pa_http_req_t *req;
    pa_timer_t *timer;
    char fail_msg[256];
    int later_ok;
    char *cand[3];
    size_t n_cand, i_cand;
    long ch_status;
    int ch_insufficient;
    char *ch_scope, *ch_resource_metadata;
    char *want_scope;
    grant_t grant;
    char verifier[64], state[32];
    unsigned rounds;
    uint64_t rounds_start;
};

static char *xstrdup(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

/* Frees a string that may hold a secret, wiping it first. */
static void free_secret(char **s)
{
    if (!*s) return;
    memset(*s, 0, strlen(*s));
    free(*s);
    *s = NULL;
}

static void set_str(char **slot, const char *v)
{
    char *d = xstrdup(v);
    free(*slot);
    *slot = d;
}

static void clear_cands(mcp_oauth_t *o)
{
    for (size_t i = 0; i < o->n_cand; i++) {
        free(o->cand[i]);
        o->cand[i] = NULL;
    }
    o->n_cand = o->i_cand = 0;
}

static void drop_token(mcp_oauth_t *o)
{
    free_secret(&o->access_token);
    free_secret(&o->refresh_token);
    free_secret(&o->header);
    free(o->token_scope);
    free(o->token_issuer);
    o->token_scope = o->token_issuer = NULL;
}

static void drop_registration(mcp_oauth_t *o)
{
    free(o->reg_issuer);
    free(o->reg_client_id);
    free_secret(&o->reg_client_secret);
    free(o->reg_method);
    o->reg_issuer = o->reg_client_id = o->reg_method = NULL;
}

/* ---- the end of a flow ---- */

static void finish(mcp_oauth_t *o, int ok, const char *msg)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", ok ? "" : (msg ? msg : "authorization failed"));
    o->busy = 0;
    free_secret(&o->code);
    clear_cands(o);
    free(o->want_scope);
    o->want_scope = NULL;
    memset(o->verifier, 0, sizeof o->verifier);
    waiter_t *w = o->waiters;
    o->waiters = NULL;
    while (w) {
        waiter_t *next = w->next;
        mcp_auth_done_fn done = w->done;
        void *ud = w->ud;
        free(w);
        done(ud, ok, ok ? NULL : copy);
        w = next;
    }
}

static void later_cb(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    mcp_oauth_t *o = ud;
    o->timer = NULL;
    finish(o, o->later_ok, o->fail_msg);
}

/* Ends the flow from the loop (never inside challenge). */
static void later(mcp_oauth_t *o, int ok, const char *msg)
{
    o->later_ok = ok;
    snprintf(o->fail_msg, sizeof o->fail_msg, "%s", msg ? msg : "");
    if (!o->timer) o->timer = pa_loop_timer(o->loop, 0, 0, later_cb, o);
}

static void fail_later(mcp_oauth_t *o, const char *msg)
{
    later(o, 0, msg);
}

/* ---- HTTP ---- */

static void http_go(mcp_oauth_t *o, pa_http_req_t *r, pa_http_done_fn fn)
{
    pa_http_req_header(r, "Accept: application/json");
    if (o->on_connect) pa_http_req_on_connect(r, o->on_connect);
    pa_http_req_timeouts(r, 0, OAUTH_TIMEOUT_MS);
    pa_http_req_max_body(r, OAUTH_MAX_BODY);
    o->req = r;
    pa_http_start(r, fn, o);
}

static void step_prm(mcp_oauth_t *o);
static void step_asm(mcp_oauth_t *o);
static void step_identity(mcp_oauth_t *o);
static void step_authorize(mcp_oauth_t *o);
static void step_token(mcp_oauth_t *o, const char *code);

/* ---- the token store ---- */

static char *store_key(const mcp_oauth_t *o)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b, "mcp:oauth:%s", o->server_url ? o->server_url : "");
    return pa_buf_detach(&b, NULL);
}

static void save_token(mcp_oauth_t *o, long expires_in)
{
    /* a DPoP-bound token is useless without the provider's key, which is not kept */
    if (!o->store || !o->server_url || o->token_dpop) return;
    json_t *j = json_pack("{s:s,s:s?,s:s?,s:s?,s:I}", "access_token", o->access_token,
                          "refresh_token", o->refresh_token, "scope", o->token_scope, "issuer",
                          o->token_issuer, "expires_at",
                          (json_int_t)(expires_in > 0 ? (long long)time(NULL) + expires_in : 0));
    if (!j) return;
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) return;
    char *key = store_key(o);
    long ttl = o->refresh_token ? 30L * 86400 : (expires_in > 0 ? expires_in : 3600);
    o->store(o->store_ud, key, text, ttl);
    free(key);
    memset(text, 0, strlen(text));
    free(text);
}

/* The loop time at which a token given for expires_in seconds is no longer offered (a margin
 * of a tenth, at most 30 s, before it); 0: no expiry. */
static uint64_t expiry(const mcp_oauth_t *o, long expires_in)
{
    if (expires_in <= 0) return 0;
    long margin = expires_in / 10 < 30 ? expires_in / 10 : 30;
    return pa_loop_now(o->loop) + (uint64_t)(expires_in - margin) * 1000u;
}

static void make_header(mcp_oauth_t *o)
{
    free_secret(&o->header);
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b, "%s %s", o->token_dpop ? "DPoP" : "Bearer", o->access_token);
    o->header = pa_buf_detach(&b, NULL);
}

/* ---- the flow's steps ---- */

static void on_token(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    mcp_oauth_t *o = ud;
    o->req = NULL;
    if (res->result != PA_HTTP_OK) {
        char m[200];
        snprintf(m, sizeof m, "token endpoint: %s", res->error);
        finish(o, 0, m);
        return;
    }
    mcp_oauth_token_t t;
    char err[128];
    if (mcp_oauth_parse_token(res->body, res->len, &t, err, sizeof err) < 0) {
        char m[200];
        snprintf(m, sizeof m, "token endpoint: HTTP %ld, %s", res->status, err);
        if (o->grant == GRANT_REFRESH) {
            free_secret(&o->refresh_token);
            step_identity(o);
            return;
        }
        finish(o, 0, m);
        return;
    }
    if (t.error && strcmp(t.error, "use_dpop_nonce") == 0 && o->dpop_on && !o->as_nonce_tried &&
        pa_http_res_header(res, "DPoP-Nonce") && o->grant != GRANT_JWT &&
        o->grant != GRANT_EXCHANGE) {
        /* RFC 9449 §8: the same request again, with the server's nonce in the proof */
        o->as_nonce_tried = 1;
        set_str(&o->as_nonce, pa_http_res_header(res, "DPoP-Nonce"));
        mcp_oauth_token_free(&t);
        step_token(o, o->code);
        return;
    }
    int dpop_token = !t.error && o->dpop_on && strcasecmp(t.token_type, "dpop") == 0;
    if (!t.error && res->status == 200 && o->grant != GRANT_EXCHANGE && !dpop_token &&
        strcasecmp(t.token_type, "bearer") != 0) {
        mcp_oauth_token_free(&t);
        finish(o, 0, "token endpoint: the token is not a Bearer token");
        return;
    }
    if (t.error || res->status != 200) {
        char m[200];
        snprintf(m, sizeof m, "token endpoint refused (HTTP %ld): %.60s%s%.80s", res->status,
                 t.error ? t.error : "no error code", t.error_description ? ": " : "",
                 t.error_description ? t.error_description : "");
        mcp_oauth_token_free(&t);
        if (o->grant == GRANT_REFRESH) { /* the refresh token is spent: start again */
            free_secret(&o->refresh_token);
            step_identity(o);
            return;
        }
        if (o->grant == GRANT_JWT || o->grant == GRANT_EXCHANGE) o->assertion_refused = 1;
        finish(o, 0, m);
        return;
    }
    if (o->grant == GRANT_EXCHANGE) { /* the ID-JAG, for the JWT-bearer grant */
        char *jag = t.access_token;
        t.access_token = NULL;
        mcp_oauth_token_free(&t);
        o->grant = GRANT_JWT;
        step_token(o, jag);
        free_secret(&jag);
        return;
    }
    char *keep_refresh = NULL;
    if (!t.refresh_token && o->grant == GRANT_REFRESH && o->refresh_token)
        keep_refresh = xstrdup(o->refresh_token); /* RFC 6749 §6: the old one stays valid */
    drop_token(o);
    o->access_token = t.access_token;
    t.access_token = NULL;
    o->refresh_token = t.refresh_token ? t.refresh_token : keep_refresh;
    t.refresh_token = NULL;
    o->token_scope = t.scope ? xstrdup(t.scope) : xstrdup(o->want_scope);
    o->token_issuer = xstrdup(o->issuer);
    o->token_dpop = dpop_token;
    make_header(o);
    long expires_in = t.expires_in;
    o->expires_at_ms = expiry(o, expires_in);
    mcp_oauth_token_free(&t);
    save_token(o, expires_in);
    finish(o, 1, NULL);
}

static char *b64url_str(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out) abort();
    mcp_oauth_b64url((const unsigned char *)s, n, out);
    return out;
}

static char *jws_sign(EVP_PKEY *key, int es, const char *header, json_t *claims);

/* A JWT of the claims, signed with the configured key: a new string, or NULL with err. */
static char *sign_jwt(const mcp_oauth_t *o, json_t *claims, char *err, size_t errlen)
{
    const char *alg = o->signing_alg ? o->signing_alg : "ES256";
    int es = strcmp(alg, "ES256") == 0;
    if (!es && strcmp(alg, "RS256") != 0) {
        snprintf(err, errlen, "private_key_jwt: unsupported signing algorithm");
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(o->private_key_pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key || (es && EVP_PKEY_base_id(key) != EVP_PKEY_EC) ||
        (!es && EVP_PKEY_base_id(key) != EVP_PKEY_RSA)) {
        EVP_PKEY_free(key);
        snprintf(err, errlen, "private_key_jwt: the key is not a PEM %s private key",
                 es ? "EC" : "RSA");
        return NULL;
    }
    char header[64];
    snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    char *out = jws_sign(key, es, header, claims);
    EVP_PKEY_free(key);
    if (!out) snprintf(err, errlen, "private_key_jwt: signing failed");
    return out;
}

/* A compact JWS of header (JSON text) and claims signed with key (ES256 when es, else RS256),
 * or NULL. */
static char *jws_sign(EVP_PKEY *key, int es, const char *header, json_t *claims)
{
    char *payload = json_dumps(claims, JSON_COMPACT);
    char *h64 = b64url_str(header), *p64 = b64url_str(payload ? payload : "{}");
    free(payload);
    pa_buf_t input = PA_BUF_INIT;
    pa_buf_printf(&input, "%s.%s", h64, p64);
    free(h64);
    free(p64);
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int ok = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)input.data, input.len) == 1) {
        sig = malloc(siglen);
        if (!sig) abort();
        ok = EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input.data, input.len) == 1;
    }
    EVP_MD_CTX_free(ctx);
    unsigned char raw[64];
    const unsigned char *der = sig;
    if (ok && es) { /* JWS wants r || s, 32 bytes each, not DER (RFC 7518 §3.4) */
        ECDSA_SIG *es_sig = d2i_ECDSA_SIG(NULL, &der, (long)siglen);
        const BIGNUM *r = NULL, *s = NULL;
        if (es_sig) ECDSA_SIG_get0(es_sig, &r, &s);
        ok = es_sig && BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
        ECDSA_SIG_free(es_sig);
    }
    char *out = NULL;
    if (ok) {
        const unsigned char *bytes = es ? raw : sig;
        size_t n = es ? sizeof raw : siglen;
        char *s64 = malloc(4 * ((n + 2) / 3) + 1);
        if (!s64) abort();
        mcp_oauth_b64url(bytes, n, s64);
        pa_buf_printf(&input, ".%s", s64);
        free(s64);
        out = pa_buf_detach(&input, NULL);
    }
    pa_buf_free(&input);
    free(sig);
    return out;
}

static void random_b64url(char *out, size_t nbytes);

/* A DPoP proof (RFC 9449 §4.2) for a request (method, url): ath binds it to token (NULL at
 * the token endpoint), nonce is the server's (NULL: none). NULL when no key can be made. */
static char *dpop_proof(mcp_oauth_t *o, const char *method, const char *url, const char *token,
                        const char *nonce)
{
    if (!o->dpop_key) {
        o->dpop_key = EVP_EC_gen("P-256");
        unsigned char pt[65];
        size_t n = 0;
        if (!o->dpop_key ||
            EVP_PKEY_get_octet_string_param(o->dpop_key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt,
                                            &n) != 1 ||
            n != 65 || pt[0] != 4) {
            EVP_PKEY_free(o->dpop_key);
            o->dpop_key = NULL;
            return NULL;
        }
        char x[48], y[48];
        mcp_oauth_b64url(pt + 1, 32, x);
        mcp_oauth_b64url(pt + 33, 32, y);
        json_t *h = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "typ", "dpop+jwt", "alg", "ES256",
                              "jwk", "kty", "EC", "crv", "P-256", "x", x, "y", y);
        o->dpop_header = h ? json_dumps(h, JSON_COMPACT) : NULL;
        json_decref(h);
        if (!o->dpop_header) return NULL;
    }
    char jti[32];
    random_b64url(jti, 16);
    size_t ulen = strcspn(url, "?#");
    json_t *claims = json_pack("{s:s,s:s,s:s%,s:I}", "jti", jti, "htm", method, "htu", url, ulen,
                               "iat", (json_int_t)time(NULL));
    if (!claims) return NULL;
    if (token) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)token, strlen(token), md);
        char ath[48];
        mcp_oauth_b64url(md, sizeof md, ath);
        json_object_set_new(claims, "ath", json_string(ath));
    }
    if (nonce) json_object_set_new(claims, "nonce", json_string(nonce));
    char *proof = jws_sign(o->dpop_key, 1, o->dpop_header, claims);
    json_decref(claims);
    return proof;
}

/* private_key_jwt (RFC 7523 §2.2): iss and sub the client, aud the issuer; NULL on failure. */
static char *client_assertion(mcp_oauth_t *o, const char *id)
{
    char jti[32];
    random_b64url(jti, 16);
    long long now = (long long)time(NULL);
    json_t *claims =
        json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "iss", id, "sub", id, "aud", o->as.issuer, "iat",
                  (json_int_t)now, "exp", (json_int_t)(now + 300), "jti", jti);
    char err[128];
    char *jwt = claims ? sign_jwt(o, claims, err, sizeof err) : NULL;
    json_decref(claims);
    return jwt;
}

static void form_auth(mcp_oauth_t *o, pa_http_req_t *r, const char *id, const char *secret)
{
    /* the method: the registered one, else the best the server lists for what the client has */
    const char *m = o->reg_method;
    if (!m || (!secret && strcmp(m, "none") != 0)) {
        if (!secret) m = "none";
        else if (o->as.auth_methods & MCP_OAUTH_AUTH_BASIC) m = "client_secret_basic";
        else if (o->as.auth_methods & MCP_OAUTH_AUTH_POST) m = "client_secret_post";
        else if (o->as.auth_methods & MCP_OAUTH_AUTH_NONE) m = "none";
        else m = "client_secret_basic";
    }
    if (strcmp(m, "client_secret_basic") == 0 && secret) {
        char *ei = mcp_oauth_urlencode(id), *es = mcp_oauth_urlencode(secret);
        pa_buf_t b = PA_BUF_INIT;
        pa_buf_printf(&b, "%s:%s", ei, es);
        char *b64 = mcp_oauth_b64((const unsigned char *)b.data, b.len);
        pa_buf_t h = PA_BUF_INIT;
        pa_buf_printf(&h, "Authorization: Basic %s", b64);
        pa_http_req_header(r, h.data);
        memset(b.data, 0, b.len);
        memset(h.data, 0, h.len);
        memset(b64, 0, strlen(b64));
        pa_buf_free(&b);
        pa_buf_free(&h);
        free(b64);
        free(ei);
        free_secret(&es);
    } else if (strcmp(m, "client_secret_post") == 0 && secret) {
        pa_http_req_form(r, "client_id", id);
        pa_http_req_form(r, "client_secret", secret);
    } else {
        pa_http_req_form(r, "client_id", id);
    }
}

/* The client's identity for the token request. */
static void identity(const mcp_oauth_t *o, const char **id, const char **secret)
{
    if (o->client_id) {
        *id = o->client_id;
        *secret = o->client_secret;
    } else {
        *id = o->reg_client_id;
        *secret = o->reg_client_secret;
    }
}

static void step_token(mcp_oauth_t *o, const char *code)
{
    const char *id, *secret;
    identity(o, &id, &secret);
    char *jwt = NULL;
    if (id && o->private_key_pem && !(jwt = client_assertion(o, id))) {
        finish(o, 0, "private_key_jwt: the client assertion could not be signed");
        return;
    }
    pa_http_req_t *r = pa_http_req_new(o->http, "POST", o->as.token_endpoint);
    if (o->grant == GRANT_CODE) {
        pa_http_req_form(r, "grant_type", "authorization_code");
        pa_http_req_form(r, "code", code);
        pa_http_req_form(r, "redirect_uri", o->redirect_uri);
        pa_http_req_form(r, "code_verifier", o->verifier);
    } else if (o->grant == GRANT_REFRESH) {
        pa_http_req_form(r, "grant_type", "refresh_token");
        pa_http_req_form(r, "refresh_token", o->refresh_token);
    } else if (o->grant == GRANT_JWT) {
        pa_http_req_form(r, "grant_type", GRANT_JWT_BEARER);
        pa_http_req_form(r, "assertion", code);
        if (o->want_scope) pa_http_req_form(r, "scope", o->want_scope);
    } else {
        pa_http_req_form(r, "grant_type", "client_credentials");
        if (o->want_scope) pa_http_req_form(r, "scope", o->want_scope);
    }
    if (o->resource) pa_http_req_form(r, "resource", o->resource);
    if (o->dpop_on) {
        char *proof = dpop_proof(o, "POST", o->as.token_endpoint, NULL, o->as_nonce);
        if (proof) {
            pa_buf_t line = PA_BUF_INIT;
            pa_buf_printf(&line, "DPoP: %s", proof);
            pa_http_req_header(r, line.data);
            pa_buf_free(&line);
            free(proof);
        }
    }
    if (jwt) {
        pa_http_req_form(r, "client_assertion_type",
                         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        pa_http_req_form(r, "client_assertion", jwt);
        free_secret(&jwt);
    } else if (id) {
        form_auth(o, r, id, secret);
    }
    http_go(o, r, on_token);
}

static void on_authorize(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    mcp_oauth_t *o = ud;
    o->req = NULL;
    if (res->result != PA_HTTP_OK) {
        char m[200];
        snprintf(m, sizeof m, "authorization endpoint: %s", res->error);
        finish(o, 0, m);
        return;
    }
    if (res->status < 300 || res->status > 399 || !res->location) {
        char m[200];
        snprintf(m, sizeof m,
                 "authorization endpoint: HTTP %ld without a redirect (a headless client cannot "
                 "ask a user)",
                 res->status);
        finish(o, 0, m);
        return;
    }
    mcp_oauth_redirect_t rd;
    const char *why = NULL;
    if (mcp_oauth_parse_redirect(res->location, &rd) < 0)
        why = "authorization response: no query, or a parameter given twice";
    else if (!rd.state || strcmp(rd.state, o->state) != 0)
        why = "authorization response: state does not match";
    else if (rd.iss && strcmp(rd.iss, o->as.issuer) != 0) /* RFC 9207: plain comparison */
        why = "authorization response: iss is not the authorization server's issuer";
    else if (!rd.iss && o->as.iss_supported)
        why = "authorization response: no iss, though the server advertises it (RFC 9207)";
    else if (rd.error) why = "authorization response: the server answered an error";
    else if (!rd.code) why = "authorization response: no code";
    if (why) {
        char m[256];
        if (rd.error && !rd.code && rd.state && strcmp(rd.state, o->state) == 0 &&
            strstr(why, "an error"))
            snprintf(m, sizeof m, "authorization response: error %.60s", rd.error);
        else snprintf(m, sizeof m, "%s", why);
        mcp_oauth_redirect_free(&rd);
        finish(o, 0, m);
        return;
    }
    free_secret(&o->code);
    o->code = rd.code;
    rd.code = NULL;
    mcp_oauth_redirect_free(&rd);
    step_token(o, o->code);
}

static void add_param(pa_buf_t *b, const char *k, const char *v)
{
    char *e = mcp_oauth_urlencode(v);
    pa_buf_printf(b, "&%s=%s", k, e);
    free(e);
}

static void random_b64url(char *out, size_t nbytes)
{
    unsigned char raw[48];
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    if (RAND_bytes(raw, (int)nbytes) != 1) abort();
    mcp_oauth_b64url(raw, nbytes, out);
    memset(raw, 0, sizeof raw);
}

static int count_round(mcp_oauth_t *o)
{
    uint64_t now = pa_loop_now(o->loop);
    if (!o->rounds || now - o->rounds_start > OAUTH_ROUNDS_WINDOW_MS) {
        o->rounds = 0;
        o->rounds_start = now;
    }
    return ++o->rounds <= OAUTH_ROUNDS_MAX;
}

/* The scope to ask for: configured, else the challenge's (with what was asked before on a
 * step-up), else the protected resource's scopes_supported, else none; offline_access added
 * when the authorization server lists it (and can refresh). */
static void choose_scope(mcp_oauth_t *o)
{
    free(o->want_scope);
    if (o->scope) o->want_scope = xstrdup(o->scope);
    else if (o->ch_scope && o->ch_insufficient)
        o->want_scope = mcp_oauth_scope_union(o->last_scope, o->ch_scope);
    else if (o->ch_scope) o->want_scope = mcp_oauth_scope_union(o->ch_scope, NULL);
    else o->want_scope = mcp_oauth_scope_union(o->prm_scopes, NULL);
    if (!o->scope && o->grant == GRANT_CODE && o->as.refresh_supported &&
        mcp_oauth_scope_has(o->as.scopes_supported, "offline_access") &&
        !mcp_oauth_scope_has(o->want_scope, "offline_access")) {
        char *u = mcp_oauth_scope_union(o->want_scope, "offline_access");
        free(o->want_scope);
        o->want_scope = u;
    }
    set_str(&o->last_scope, o->want_scope);
}

static void step_authorize(mcp_oauth_t *o)
{
    if (!o->as.authorization_endpoint) {
        finish(o, 0, "authorization-server metadata: no authorization_endpoint");
        return;
    }
    if (!count_round(o)) {
        finish(o, 0, "too many authorization attempts in a minute: giving up");
        return;
    }
    const char *id, *secret;
    identity(o, &id, &secret);
    choose_scope(o);
    random_b64url(o->verifier, 32);
    random_b64url(o->state, 16);
    char challenge[44];
    mcp_oauth_pkce_challenge(o->verifier, challenge);
    pa_buf_t u = PA_BUF_INIT;
    pa_buf_puts(&u, o->as.authorization_endpoint);
    pa_buf_puts(&u, strchr(o->as.authorization_endpoint, '?') ? "&" : "?");
    pa_buf_puts(&u, "response_type=code");
    add_param(&u, "client_id", id);
    add_param(&u, "redirect_uri", o->redirect_uri);
    add_param(&u, "state", o->state);
    add_param(&u, "code_challenge", challenge);
    add_param(&u, "code_challenge_method", "S256");
    if (o->resource) add_param(&u, "resource", o->resource);
    if (o->want_scope) add_param(&u, "scope", o->want_scope);
    pa_http_req_t *r = pa_http_req_new(o->http, "GET", u.data);
    pa_buf_free(&u);
    http_go(o, r, on_authorize);
}

static void on_register(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    mcp_oauth_t *o = ud;
    o->req = NULL;
    if (res->result != PA_HTTP_OK) {
        char m[200];
        snprintf(m, sizeof m, "registration endpoint: %s", res->error);
        finish(o, 0, m);
        return;
    }
    mcp_oauth_reg_t g;
    char err[128];
    if (res->status / 100 != 2 ||
        mcp_oauth_parse_registration(res->body, res->len, &g, err, sizeof err) < 0) {
        char m[200];
        snprintf(m, sizeof m, "registration endpoint: HTTP %ld%s%s", res->status,
                 res->status / 100 == 2 ? ", " : "", res->status / 100 == 2 ? err : "");
        finish(o, 0, m);
        return;
    }
    drop_registration(o);
    o->reg_issuer = xstrdup(o->issuer);
    o->reg_client_id = g.client_id;
    o->reg_client_secret = g.client_secret;
    o->reg_method = g.token_endpoint_auth_method;
    g.client_id = g.client_secret = g.token_endpoint_auth_method = NULL;
    step_authorize(o);
}

static void step_register(mcp_oauth_t *o)
{
    const char *method = "none";
    if (!(o->as.auth_methods & MCP_OAUTH_AUTH_NONE)) {
        if (o->as.auth_methods & MCP_OAUTH_AUTH_BASIC) method = "client_secret_basic";
        else if (o->as.auth_methods & MCP_OAUTH_AUTH_POST) method = "client_secret_post";
    }
    json_t *grants = json_pack("[s]", "authorization_code");
    if (o->as.refresh_supported) json_array_append_new(grants, json_string("refresh_token"));
    json_t *j =
        json_pack("{s:s,s:[s],s:o,s:[s],s:s,s:s}", "client_name", o->client_name, "redirect_uris",
                  o->redirect_uri, "grant_types", grants, "response_types", "code",
                  "token_endpoint_auth_method", method, "application_type", "native");
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        finish(o, 0, "registration: cannot encode the client metadata");
        return;
    }
    pa_http_req_t *r = pa_http_req_new(o->http, "POST", o->as.registration_endpoint);
    pa_http_req_json(r, text);
    free(text);
    http_go(o, r, on_register);
}

/* SEP-990: the ID token for an ID-JAG at the identity provider (RFC 8693). */
static void step_exchange(mcp_oauth_t *o)
{
    pa_http_req_t *r = pa_http_req_new(o->http, "POST", o->idp_token_endpoint);
    pa_http_req_form(r, "grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
    pa_http_req_form(r, "subject_token", o->idp_id_token);
    pa_http_req_form(r, "subject_token_type", "urn:ietf:params:oauth:token-type:id_token");
    pa_http_req_form(r, "requested_token_type", "urn:ietf:params:oauth:token-type:id-jag");
    pa_http_req_form(r, "audience", o->as.issuer);
    if (o->resource) pa_http_req_form(r, "resource", o->resource);
    if (o->want_scope) pa_http_req_form(r, "scope", o->want_scope);
    if (o->idp_client_id) pa_http_req_form(r, "client_id", o->idp_client_id);
    http_go(o, r, on_token);
}

/* Who the client is at this issuer, then the grant. */
static void step_identity(mcp_oauth_t *o)
{
    if (o->assertion || o->idp_token_endpoint) {
        if (o->assertion_refused) {
            finish(o, 0, "the JWT-bearer grant was refused before: not tried again");
            return;
        }
        if (!count_round(o)) {
            finish(o, 0, "too many authorization attempts in a minute: giving up");
            return;
        }
        o->grant = o->idp_token_endpoint ? GRANT_EXCHANGE : GRANT_JWT;
        choose_scope(o);
        if (o->grant == GRANT_EXCHANGE) step_exchange(o);
        else step_token(o, o->assertion);
        return;
    }
    if (o->client_credentials) {
        if (!o->client_id) {
            finish(o, 0, "client_credentials needs a pre-registered client_id");
            return;
        }
        if (!count_round(o)) {
            finish(o, 0, "too many authorization attempts in a minute: giving up");
            return;
        }
        o->grant = GRANT_CLIENT;
        choose_scope(o);
        step_token(o, NULL);
        return;
    }
    o->grant = GRANT_CODE;
    if (o->client_id) {
        step_authorize(o);
    } else if (o->reg_client_id && o->reg_issuer && strcmp(o->reg_issuer, o->issuer) == 0) {
        step_authorize(o);
    } else if (o->client_metadata_url && o->as.cimd_supported) {
        drop_registration(o);
        o->reg_issuer = xstrdup(o->issuer);
        o->reg_client_id = xstrdup(o->client_metadata_url);
        o->reg_method = xstrdup("none");
        step_authorize(o);
    } else if (o->as.registration_endpoint) {
        step_register(o);
    } else {
        finish(o, 0,
               "the authorization server has no registration endpoint and no client_id is "
               "configured");
    }
}

/* The authorization server's metadata is m (taken): on to the grant. */
static void use_metadata(mcp_oauth_t *o, mcp_oauth_asm_t *m)
{
    mcp_oauth_asm_free(&o->as);
    o->as = *m;
    memset(m, 0, sizeof *m);
    o->dpop_on = o->dpop_challenged && o->as.dpop_es256;
    o->as_nonce_tried = 0;
    clear_cands(o);
    /* credentials of another authorization server are not used here */
    if (o->reg_issuer && strcmp(o->reg_issuer, o->issuer) != 0) drop_registration(o);
    if (o->token_issuer && strcmp(o->token_issuer, o->issuer) != 0) drop_token(o);
    if (o->refresh_token && !o->ch_insufficient && !o->client_credentials && !o->assertion &&
        !o->idp_token_endpoint) {
        o->grant = GRANT_REFRESH;
        free(o->want_scope);
        o->want_scope = xstrdup(o->token_scope);
        step_token(o, NULL);
        return;
    }
    step_identity(o);
}

static char *concat(const char *a, const char *b)
{
    pa_buf_t x = PA_BUF_INIT;
    pa_buf_printf(&x, "%s%s", a, b);
    return pa_buf_detach(&x, NULL);
}

static void on_asm(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    mcp_oauth_t *o = ud;
    o->req = NULL;
    if (res->result == PA_HTTP_OK) o->reachable = 1;
    if (res->result == PA_HTTP_OK && res->status == 200) {
        mcp_oauth_asm_t m;
        char err[128];
        if (mcp_oauth_parse_as_metadata(res->body, res->len, &m, err, sizeof err) == 0) {
            if (strcmp(m.issuer, o->issuer) != 0) {
                mcp_oauth_asm_free(&m);
                finish(o, 0,
                       "authorization-server metadata: its issuer is not the authorization "
                       "server asked for");
                return;
            }
            use_metadata(o, &m);
            return;
        }
    }
    step_asm(o);
}

static void step_asm(mcp_oauth_t *o)
{
    if (o->i_cand >= o->n_cand && o->legacy && o->reachable) {
        /* 2025-03-26: no metadata at all, the default endpoints at the server's origin */
        mcp_oauth_asm_t m = {
            .issuer = xstrdup(o->issuer),
            .authorization_endpoint = concat(o->issuer, "/authorize"),
            .token_endpoint = concat(o->issuer, "/token"),
            .registration_endpoint = concat(o->issuer, "/register"),
            .auth_methods = MCP_OAUTH_AUTH_BASIC,
            .s256_supported = 1,
            .refresh_supported = 1,
        };
        use_metadata(o, &m);
        return;
    }
    if (o->i_cand >= o->n_cand) {
        finish(o, 0, "no authorization-server metadata found");
        return;
    }
    pa_http_req_t *r = pa_http_req_new(o->http, "GET", o->cand[o->i_cand++]);
    http_go(o, r, on_asm);
}

static void on_prm(pa_http_req_t *req, const pa_http_res_t *res, void *ud)
{
    mcp_oauth_t *o = ud;
    o->req = NULL;
    if (res->result == PA_HTTP_OK && res->status == 200) {
        mcp_oauth_prm_t p;
        char err[128];
        if (mcp_oauth_parse_prm(res->body, res->len, &p, err, sizeof err) == 0) {
            if (!mcp_oauth_resource_matches(p.resource, o->server_url)) {
                mcp_oauth_prm_free(&p);
                finish(o, 0, "protected-resource metadata: its resource is not the server's URL");
                return;
            }
            o->legacy = 0;
            set_str(&o->resource, p.resource);
            set_str(&o->issuer, p.authorization_servers[0]);
            free(o->prm_scopes);
            o->prm_scopes = p.scopes_supported;
            p.scopes_supported = NULL;
            mcp_oauth_prm_free(&p);
            clear_cands(o);
            o->n_cand = mcp_oauth_as_urls(o->issuer, o->cand);
            step_asm(o);
            return;
        }
    }
    step_prm(o);
}

static void step_prm(mcp_oauth_t *o)
{
    if (o->i_cand >= o->n_cand && !o->legacy_tried) {
        /* 2025-03-26 servers publish none: the server's origin is the authorization server
         * (its metadata at the root, else the default endpoints), no resource indicator */
        char *origin = NULL, *path = NULL;
        if (mcp_oauth_url_split(o->server_url, &origin, &path) == 0) {
            free(path);
            o->legacy = o->legacy_tried = 1;
            free(o->resource);
            o->resource = NULL;
            free(o->issuer);
            o->issuer = origin;
            free(o->prm_scopes);
            o->prm_scopes = NULL;
            clear_cands(o);
            o->n_cand = mcp_oauth_as_urls(o->issuer, o->cand);
            step_asm(o);
            return;
        }
    }
    if (o->i_cand >= o->n_cand) {
        finish(o, 0, "no protected-resource metadata found");
        return;
    }
    pa_http_req_t *r = pa_http_req_new(o->http, "GET", o->cand[o->i_cand++]);
    http_go(o, r, on_prm);
}

static void begin_discovery(mcp_oauth_t *o)
{
    clear_cands(o);
    o->legacy = o->legacy_tried = o->reachable = 0;
    if (o->ch_resource_metadata && (strncmp(o->ch_resource_metadata, "http://", 7) == 0 ||
                                    strncmp(o->ch_resource_metadata, "https://", 8) == 0))
        o->cand[o->n_cand++] = xstrdup(o->ch_resource_metadata);
    char *wk[2] = {NULL, NULL};
    size_t n = mcp_oauth_prm_urls(o->server_url, wk);
    for (size_t i = 0; i < n; i++) {
        if (o->n_cand && strcmp(o->cand[0], wk[i]) == 0) free(wk[i]);
        else o->cand[o->n_cand++] = wk[i];
    }
    step_prm(o);
}

/* ---- the store's answer ---- */

static void on_loaded(void *cb_ud, const char *value)
{
    load_ctx_t *ctx = cb_ud;
    mcp_oauth_t *o = ctx->o;
    free(ctx);
    if (!o) return;
    o->loading = NULL;
    json_t *j = value ? json_loads(value, 0, NULL) : NULL;
    const char *at = json_string_value(json_object_get(j, "access_token"));
    json_int_t exp = json_integer_value(json_object_get(j, "expires_at"));
    int fresh = at && *at && (exp == 0 || exp > (json_int_t)time(NULL) + 5);
    const char *rt = json_string_value(json_object_get(j, "refresh_token"));
    if (at && *at) {
        drop_token(o);
        if (fresh) {
            o->access_token = xstrdup(at);
            o->expires_at_ms = exp ? expiry(o, (long)(exp - (json_int_t)time(NULL))) : 0;
            make_header(o);
        }
        o->refresh_token = rt && *rt ? xstrdup(rt) : NULL;
        o->token_scope = xstrdup(json_string_value(json_object_get(j, "scope")));
        o->token_issuer = xstrdup(json_string_value(json_object_get(j, "issuer")));
    }
    json_decref(j);
    if (fresh) {
        finish(o, 1, NULL); /* the request is retried with the stored token */
        return;
    }
    begin_discovery(o);
}

/* ---- mcp_auth_ops_t ---- */

static const char *op_header(void *self, const char *url)
{
    mcp_oauth_t *o = self;
    /* an expired token is not offered: the 401 that follows refreshes it */
    if (o->header && o->expires_at_ms && pa_loop_now(o->loop) >= o->expires_at_ms) return NULL;
    return o->header;
}

static void op_challenge(void *self, const char *url, long status, const char *www,
                         mcp_auth_done_fn done, void *ud)
{
    mcp_oauth_t *o = self;
    waiter_t *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->done = done;
    w->ud = ud;
    w->next = o->waiters;
    o->waiters = w;
    if (o->busy) return;
    o->busy = 1;

    mcp_oauth_challenge_t c;
    int have = mcp_oauth_parse_challenge(www, "Bearer", &c) == 0;
    int dpop = !have && mcp_oauth_parse_challenge(www, "DPoP", &c) == 0;
    if (dpop) {
        have = 1;
        o->dpop_challenged = 1;
    }
    if (dpop && status == 401 && c.error && strcmp(c.error, "use_dpop_nonce") == 0 &&
        o->token_dpop && o->access_token && o->rs_nonce) {
        /* RFC 9449 §9: the same token again, with the server's nonce (from response()) */
        mcp_oauth_challenge_free(&c);
        later(o, 1, NULL);
        return;
    }
    free(o->ch_scope);
    free(o->ch_resource_metadata);
    o->ch_scope = have ? c.scope : NULL;
    o->ch_resource_metadata = have ? c.resource_metadata : NULL;
    o->ch_status = status;
    o->ch_insufficient =
        status == 403 && have && c.error && strcmp(c.error, "insufficient_scope") == 0;
    if (have) {
        c.scope = c.resource_metadata = NULL;
        mcp_oauth_challenge_free(&c);
    }
    if (!o->server_url || strcmp(o->server_url, url ? url : "") != 0) set_str(&o->server_url, url);
    if (!o->server_url) {
        fail_later(o, "no server URL");
        return;
    }
    if (status == 403 && !o->ch_insufficient) {
        fail_later(o, "the server refused the request (403) without asking for a scope");
        return;
    }
    if (o->ch_insufficient) {
        /* a step-up that cannot help: what is asked for was granted already */
        if (!o->ch_scope ||
            (o->access_token && mcp_oauth_scope_subset(o->ch_scope, o->token_scope))) {
            fail_later(o, "the server asks for a scope the token already has (403 "
                          "insufficient_scope): giving up");
            return;
        }
    }
    if (o->load && !o->loaded && !o->access_token) {
        o->loaded = 1;
        load_ctx_t *ctx = calloc(1, sizeof *ctx);
        if (!ctx) abort();
        ctx->o = o;
        o->loading = ctx;
        char *key = store_key(o);
        o->load(o->store_ud, key, on_loaded, ctx);
        free(key);
        return;
    }
    /* the token in hand was refused (401): it is not offered again */
    if (status == 401) free_secret(&o->header), free_secret(&o->access_token);
    begin_discovery(o);
}

static void op_abandon(void *self, void *ud)
{
    mcp_oauth_t *o = self;
    for (waiter_t **pw = &o->waiters; *pw; pw = &(*pw)->next) {
        if ((*pw)->ud == ud) {
            waiter_t *w = *pw;
            *pw = w->next;
            free(w);
            return;
        }
    }
}

static const char *op_extra_header(void *self, const char *method, const char *url)
{
    mcp_oauth_t *o = self;
    if (!o->token_dpop || !o->access_token || !url) return NULL;
    char *proof = dpop_proof(o, method ? method : "POST", url, o->access_token, o->rs_nonce);
    if (!proof) return NULL;
    free(o->extra);
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_printf(&b, "DPoP: %s", proof);
    o->extra = pa_buf_detach(&b, NULL);
    free(proof);
    return o->extra;
}

static void op_response(void *self, const pa_http_res_t *res)
{
    mcp_oauth_t *o = self;
    const char *n = res ? pa_http_res_header(res, "DPoP-Nonce") : NULL;
    if (n && *n && strlen(n) < 512 && !strpbrk(n, "\r\n")) set_str(&o->rs_nonce, n);
}

static const mcp_auth_ops_t ops = {
    .header = op_header,
    .challenge = op_challenge,
    .abandon = op_abandon,
    .extra_header = op_extra_header,
    .response = op_response,
};

const mcp_auth_ops_t *mcp_oauth_ops(void)
{
    return &ops;
}

/* ---- life ---- */

mcp_oauth_t *mcp_oauth_new(const mcp_oauth_cfg_t *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->loop || !cfg->http) {
        snprintf(err, errlen, "oauth: a loop and an HTTP engine are needed");
        return NULL;
    }
    if (cfg->client_secret && !cfg->client_id) {
        snprintf(err, errlen, "oauth: a client_secret without a client_id");
        return NULL;
    }
    if (cfg->client_credentials &&
        (!cfg->client_id || (!cfg->client_secret && !cfg->private_key_pem))) {
        snprintf(err, errlen,
                 "oauth: client_credentials needs client_id and client_secret or a private key");
        return NULL;
    }
    if (cfg->private_key_pem && !cfg->client_id) {
        snprintf(err, errlen, "oauth: a private key without a client_id");
        return NULL;
    }
    if (cfg->idp_token_endpoint && (!cfg->idp_id_token || !cfg->client_id ||
                                    strncmp(cfg->idp_token_endpoint, "http", 4) != 0)) {
        snprintf(err, errlen,
                 "oauth: the token exchange needs idp_id_token, a client_id and an "
                 "http(s) idp_token_endpoint");
        return NULL;
    }
    if (cfg->redirect_uri && strncmp(cfg->redirect_uri, "http://", 7) != 0 &&
        strncmp(cfg->redirect_uri, "https://", 8) != 0) {
        snprintf(err, errlen, "oauth: redirect_uri must be an http:// or https:// URL");
        return NULL;
    }
    if (cfg->client_metadata_url && strncmp(cfg->client_metadata_url, "https://", 8) != 0) {
        snprintf(err, errlen, "oauth: client_metadata_url must be an https:// URL");
        return NULL;
    }
    mcp_oauth_t *o = calloc(1, sizeof *o);
    if (!o) abort();
    o->loop = cfg->loop;
    o->http = cfg->http;
    o->client_id = xstrdup(cfg->client_id);
    o->client_secret = xstrdup(cfg->client_secret);
    o->client_metadata_url = xstrdup(cfg->client_metadata_url);
    o->client_name = xstrdup(cfg->client_name ? cfg->client_name : "prospect-ai");
    o->redirect_uri = xstrdup(cfg->redirect_uri ? cfg->redirect_uri : DEFAULT_REDIRECT);
    o->scope = cfg->scope && *cfg->scope ? xstrdup(cfg->scope) : NULL;
    o->client_credentials = cfg->client_credentials;
    o->on_connect = cfg->on_connect;
    o->store = cfg->store;
    o->load = cfg->load;
    o->store_ud = cfg->store_ud;
    o->private_key_pem = xstrdup(cfg->private_key_pem);
    o->signing_alg = xstrdup(cfg->signing_alg);
    o->assertion = xstrdup(cfg->assertion);
    o->idp_token_endpoint = xstrdup(cfg->idp_token_endpoint);
    o->idp_id_token = xstrdup(cfg->idp_id_token);
    o->idp_client_id = xstrdup(cfg->idp_client_id);
    return o;
}

void mcp_oauth_destroy(mcp_oauth_t **op)
{
    if (!op || !*op) return;
    mcp_oauth_t *o = *op;
    *op = NULL;
    if (o->req) pa_http_cancel(o->req);
    if (o->timer) pa_loop_timer_stop(o->loop, &o->timer);
    if (o->loading) o->loading->o = NULL;
    while (o->waiters) {
        waiter_t *w = o->waiters;
        o->waiters = w->next;
        free(w);
    }
    clear_cands(o);
    drop_token(o);
    drop_registration(o);
    mcp_oauth_asm_free(&o->as);
    free(o->client_id);
    free_secret(&o->client_secret);
    free(o->client_metadata_url);
    free(o->client_name);
    free(o->redirect_uri);
    free(o->scope);
    free(o->server_url);
    free(o->resource);
    free(o->issuer);
    free(o->prm_scopes);
    free(o->last_scope);
    free(o->ch_scope);
    free(o->ch_resource_metadata);
    free(o->want_scope);
    free_secret(&o->private_key_pem);
    free(o->signing_alg);
    free_secret(&o->assertion);
    free(o->idp_token_endpoint);
    free_secret(&o->idp_id_token);
    free(o->idp_client_id);
    EVP_PKEY_free(o->dpop_key);
    free(o->dpop_header);
    free(o->as_nonce);
    free(o->rs_nonce);
    free(o->extra);
    free_secret(&o->code);
    memset(o->verifier, 0, sizeof o->verifier);
    free(o);
}
