/* The pure parts of the MCP authorization client: see mcp_oauth_parse.h. */
#include "mcp_oauth_parse.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_buf.h"

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) abort();
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *dups(const char *s)
{
    return s ? dupn(s, strlen(s)) : NULL;
}

/* ---- WWW-Authenticate ---- */

static int is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

void mcp_oauth_challenge_free(mcp_oauth_challenge_t *c)
{
    if (!c) return;
    free(c->resource_metadata);
    free(c->scope);
    free(c->error);
    free(c->error_description);
    free(c->realm);
    memset(c, 0, sizeof *c);
}

/* Reads an auth-param value (token or quoted-string) at *pp into a new string, or NULL. */
static char *read_value(const char **pp)
{
    const char *p = *pp;
    if (*p == '"') {
        pa_buf_t b = PA_BUF_INIT;
        p++;
        for (;;) {
            if (*p == '\0') {
                pa_buf_free(&b);
                return NULL;
            }
            if (*p == '"') break;
            if (*p == '\\') {
                p++;
                if (*p == '\0') {
                    pa_buf_free(&b);
                    return NULL;
                }
            }
            pa_buf_putc(&b, *p++);
            if (b.len > MCP_OAUTH_MAX_VALUE) {
                pa_buf_free(&b);
                return NULL;
            }
        }
        *pp = p + 1;
        if (!b.data) return dups("");
        return pa_buf_detach(&b, NULL);
    }
    const char *s = p;
    while (is_tchar((unsigned char)*p) || *p == '/' || *p == ':' || *p == '=') p++;
    if (p == s || (size_t)(p - s) > MCP_OAUTH_MAX_VALUE) return NULL;
    *pp = p;
    return dupn(s, (size_t)(p - s));
}

static int is_namechar(unsigned char c)
{
    return is_tchar(c) || c == '/';
}

/* The parameter name n (nlen bytes) is name. */
static int name_is(const char *n, size_t nlen, const char *name)
{
    return nlen == strlen(name) && strncasecmp(n, name, nlen) == 0;
}

int mcp_oauth_parse_challenge(const char *value, const char *scheme, mcp_oauth_challenge_t *out)
{
    memset(out, 0, sizeof *out);
    if (!value || !scheme) return -1;
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (*p == '\0') return -1;
        const char *s = p;
        while (is_tchar((unsigned char)*p)) p++;
        if (p == s) return -1;
        int match = name_is(s, (size_t)(p - s), scheme);
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == ',') p++;
            if (*p == '\0') break;
            const char *n = p;
            while (is_namechar((unsigned char)*p)) p++;
            size_t nlen = (size_t)(p - n);
            const char *q = skip_ows(p);
            if (nlen == 0) goto bad;
            if (*q != '=') { /* the next challenge's scheme */
                p = n;
                break;
            }
            q++;
            if (*q == '=' || *q == '\0' || *q == ',' || *q == ' ' || *q == '\t') {
                /* a token68 ("abc=", "abc==") */
                while (*q == '=') q++;
                p = q;
                continue;
            }
            q = skip_ows(q);
            char *v = read_value(&q);
            if (!v) goto bad;
            char **slot = NULL;
            if (!match) slot = NULL;
            else if (name_is(n, nlen, "resource_metadata")) slot = &out->resource_metadata;
            else if (name_is(n, nlen, "scope")) slot = &out->scope;
            else if (name_is(n, nlen, "error")) slot = &out->error;
            else if (name_is(n, nlen, "error_description")) slot = &out->error_description;
            else if (name_is(n, nlen, "realm")) slot = &out->realm;
            if (slot && !*slot) *slot = v;
            else free(v);
            p = skip_ows(q);
            if (*p == ',' || *p == '\0') continue;
            goto bad;
        }
        if (match) return 0;
        if (*p == '\0') return -1;
    }
bad:
    mcp_oauth_challenge_free(out);
    return -1;
}

/* ---- JSON documents ---- */

static json_t *load_object(const char *body, size_t len, char *err, size_t errlen)
{
    if (!body) {
        set_err(err, errlen, "no body");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        set_err(err, errlen, "not JSON");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        set_err(err, errlen, "not a JSON object");
        return NULL;
    }
    return j;
}

/* The string member k: 0 with *out (NULL when absent or null), -1 when of another type or
 * empty or too long. */
static int get_str(json_t *o, const char *k, char **out)
{
    *out = NULL;
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return -1;
    size_t n = json_string_length(v);
    if (n == 0 || n > MCP_OAUTH_MAX_VALUE || memchr(json_string_value(v), '\0', n)) return -1;
    *out = dupn(json_string_value(v), n);
    return 0;
}

/* An array of strings joined by spaces (NULL when absent or empty); -1 for a bad type. */
static int get_str_list(json_t *o, const char *k, char **out)
{
    *out = NULL;
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_array(v)) return -1;
    pa_buf_t b = PA_BUF_INIT;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e) || json_string_length(e) == 0 || strchr(json_string_value(e), ' ')) {
            pa_buf_free(&b);
            return -1;
        }
        if (b.len) pa_buf_putc(&b, ' ');
        pa_buf_puts(&b, json_string_value(e));
        if (b.len > MCP_OAUTH_MAX_VALUE) {
            pa_buf_free(&b);
            return -1;
        }
    }
    if (b.len) *out = pa_buf_detach(&b, NULL);
    pa_buf_free(&b);
    return 0;
}

static int list_has(json_t *o, const char *k, const char *s)
{
    json_t *v = json_object_get(o, k);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), s) == 0) return 1;
    }
    return 0;
}

static int is_http_url(const char *s)
{
    return s && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0);
}

void mcp_oauth_prm_free(mcp_oauth_prm_t *p)
{
    if (!p) return;
    free(p->resource);
    for (size_t i = 0; i < p->n_as; i++) free(p->authorization_servers[i]);
    free(p->authorization_servers);
    free(p->scopes_supported);
    memset(p, 0, sizeof *p);
}

int mcp_oauth_parse_prm(const char *body, size_t len, mcp_oauth_prm_t *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *j = load_object(body, len, err, errlen);
    if (!j) return -1;
    const char *why = NULL;
    if (get_str(j, "resource", &out->resource) < 0 || !out->resource)
        why = "protected-resource metadata: no resource";
    else if (get_str_list(j, "scopes_supported", &out->scopes_supported) < 0)
        why = "protected-resource metadata: scopes_supported is not a list of scopes";
    else {
        json_t *as = json_object_get(j, "authorization_servers");
        if (!json_is_array(as) || json_array_size(as) == 0 || json_array_size(as) > 16)
            why = "protected-resource metadata: no authorization_servers";
        else {
            out->authorization_servers = calloc(json_array_size(as), sizeof(char *));
            if (!out->authorization_servers) abort();
            size_t i;
            json_t *e;
            json_array_foreach(as, i, e) {
                const char *s = json_string_value(e);
                if (!is_http_url(s) || strlen(s) > MCP_OAUTH_MAX_VALUE) {
                    why = "protected-resource metadata: an authorization server is not a URL";
                    break;
                }
                out->authorization_servers[out->n_as++] = dups(s);
            }
        }
    }
    json_decref(j);
    if (why) {
        mcp_oauth_prm_free(out);
        set_err(err, errlen, why);
        return -1;
    }
    return 0;
}

void mcp_oauth_asm_free(mcp_oauth_asm_t *m)
{
    if (!m) return;
    free(m->issuer);
    free(m->authorization_endpoint);
    free(m->token_endpoint);
    free(m->registration_endpoint);
    free(m->scopes_supported);
    memset(m, 0, sizeof *m);
}

int mcp_oauth_parse_as_metadata(const char *body, size_t len, mcp_oauth_asm_t *out, char *err,
                                size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *j = load_object(body, len, err, errlen);
    if (!j) return -1;
    const char *why = NULL;
    if (get_str(j, "issuer", &out->issuer) < 0 || !out->issuer)
        why = "authorization-server metadata: no issuer";
    else if (get_str(j, "token_endpoint", &out->token_endpoint) < 0 || !out->token_endpoint ||
             !is_http_url(out->token_endpoint))
        why = "authorization-server metadata: no token_endpoint URL";
    else if (get_str(j, "authorization_endpoint", &out->authorization_endpoint) < 0 ||
             (out->authorization_endpoint && !is_http_url(out->authorization_endpoint)))
        why = "authorization-server metadata: authorization_endpoint is not a URL";
    else if (get_str(j, "registration_endpoint", &out->registration_endpoint) < 0 ||
             (out->registration_endpoint && !is_http_url(out->registration_endpoint)))
        why = "authorization-server metadata: registration_endpoint is not a URL";
    else if (get_str_list(j, "scopes_supported", &out->scopes_supported) < 0)
        why = "authorization-server metadata: scopes_supported is not a list of scopes";
    if (!why) {
        json_t *m = json_object_get(j, "token_endpoint_auth_methods_supported");
        if (json_is_array(m)) {
            if (list_has(j, "token_endpoint_auth_methods_supported", "none"))
                out->auth_methods |= MCP_OAUTH_AUTH_NONE;
            if (list_has(j, "token_endpoint_auth_methods_supported", "client_secret_basic"))
                out->auth_methods |= MCP_OAUTH_AUTH_BASIC;
            if (list_has(j, "token_endpoint_auth_methods_supported", "client_secret_post"))
                out->auth_methods |= MCP_OAUTH_AUTH_POST;
            if (list_has(j, "token_endpoint_auth_methods_supported", "private_key_jwt"))
                out->auth_methods |= MCP_OAUTH_AUTH_JWT;
        } else {
            out->auth_methods = MCP_OAUTH_AUTH_BASIC;
        }
        out->cimd_supported =
            json_is_true(json_object_get(j, "client_id_metadata_document_supported"));
        out->iss_supported =
            json_is_true(json_object_get(j, "authorization_response_iss_parameter_supported"));
        out->s256_supported = list_has(j, "code_challenge_methods_supported", "S256");
        out->dpop_es256 = list_has(j, "dpop_signing_alg_values_supported", "ES256");
        out->refresh_supported = !json_is_array(json_object_get(j, "grant_types_supported")) ||
                                 list_has(j, "grant_types_supported", "refresh_token");
    }
    json_decref(j);
    if (why) {
        mcp_oauth_asm_free(out);
        set_err(err, errlen, why);
        return -1;
    }
    return 0;
}

void mcp_oauth_token_free(mcp_oauth_token_t *t)
{
    if (!t) return;
    if (t->access_token) memset(t->access_token, 0, strlen(t->access_token));
    if (t->refresh_token) memset(t->refresh_token, 0, strlen(t->refresh_token));
    free(t->access_token);
    free(t->token_type);
    free(t->refresh_token);
    free(t->scope);
    free(t->error);
    free(t->error_description);
    memset(t, 0, sizeof *t);
}

int mcp_oauth_parse_token(const char *body, size_t len, mcp_oauth_token_t *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *j = load_object(body, len, err, errlen);
    if (!j) return -1;
    const char *why = NULL;
    if (get_str(j, "error", &out->error) < 0) why = "token response: error is not a string";
    else if (out->error) {
        if (get_str(j, "error_description", &out->error_description) < 0)
            out->error_description = NULL;
    } else if (get_str(j, "access_token", &out->access_token) < 0 || !out->access_token)
        why = "token response: no access_token";
    else if (get_str(j, "token_type", &out->token_type) < 0 || !out->token_type)
        why = "token response: no token_type";
    else if (get_str(j, "refresh_token", &out->refresh_token) < 0)
        why = "token response: refresh_token is not a string";
    else if (get_str(j, "scope", &out->scope) < 0) why = "token response: scope is not a string";
    else {
        json_t *e = json_object_get(j, "expires_in");
        if (json_is_integer(e) && json_integer_value(e) > 0)
            out->expires_in =
                (long)(json_integer_value(e) > 315360000 ? 315360000 : json_integer_value(e));
        else if (json_is_real(e) && json_real_value(e) > 0 && json_real_value(e) < 315360000)
            out->expires_in = (long)json_real_value(e);
        else if (e && !json_is_null(e) && !json_is_number(e))
            why = "token response: expires_in is not a number";
    }
    json_decref(j);
    if (why) {
        mcp_oauth_token_free(out);
        set_err(err, errlen, why);
        return -1;
    }
    return 0;
}

void mcp_oauth_reg_free(mcp_oauth_reg_t *r)
{
    if (!r) return;
    if (r->client_secret) memset(r->client_secret, 0, strlen(r->client_secret));
    free(r->client_id);
    free(r->client_secret);
    free(r->token_endpoint_auth_method);
    memset(r, 0, sizeof *r);
}

int mcp_oauth_parse_registration(const char *body, size_t len, mcp_oauth_reg_t *out, char *err,
                                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *j = load_object(body, len, err, errlen);
    if (!j) return -1;
    const char *why = NULL;
    if (get_str(j, "client_id", &out->client_id) < 0 || !out->client_id)
        why = "registration response: no client_id";
    else if (get_str(j, "client_secret", &out->client_secret) < 0)
        why = "registration response: client_secret is not a string";
    else if (get_str(j, "token_endpoint_auth_method", &out->token_endpoint_auth_method) < 0)
        why = "registration response: token_endpoint_auth_method is not a string";
    json_decref(j);
    if (why) {
        mcp_oauth_reg_free(out);
        set_err(err, errlen, why);
        return -1;
    }
    return 0;
}

/* ---- the redirect ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes (and '+' as space) n bytes into a new string, or NULL (a NUL, too long). */
static char *pct_decode(const char *s, size_t n)
{
    if (n > MCP_OAUTH_MAX_VALUE) return NULL;
    char *d = malloc(n + 1);
    if (!d) abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') c = ' ';
        else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        if (c == 0) {
            free(d);
            return NULL;
        }
        d[o++] = (char)c;
    }
    d[o] = '\0';
    return d;
}

void mcp_oauth_redirect_free(mcp_oauth_redirect_t *r)
{
    if (!r) return;
    free(r->code);
    free(r->state);
    free(r->iss);
    free(r->error);
    free(r->error_description);
    memset(r, 0, sizeof *r);
}

int mcp_oauth_parse_redirect(const char *location, mcp_oauth_redirect_t *out)
{
    memset(out, 0, sizeof *out);
    if (!location) return -1;
    const char *q = strchr(location, '?');
    const char *hash = strchr(location, '#');
    if (!q || (hash && hash < q)) return -1;
    q++;
    const char *end = hash ? hash : q + strlen(q);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pe - q));
        const char *ke = eq ? eq : pe;
        char *k = pct_decode(q, (size_t)(ke - q));
        char *v = eq ? pct_decode(eq + 1, (size_t)(pe - eq - 1)) : dups("");
        if (!k || !v) {
            free(k);
            free(v);
            mcp_oauth_redirect_free(out);
            return -1;
        }
        char **slot = NULL;
        if (strcmp(k, "code") == 0) slot = &out->code;
        else if (strcmp(k, "state") == 0) slot = &out->state;
        else if (strcmp(k, "iss") == 0) slot = &out->iss;
        else if (strcmp(k, "error") == 0) slot = &out->error;
        else if (strcmp(k, "error_description") == 0) slot = &out->error_description;
        free(k);
        if (slot && *slot) {
            free(v);
            mcp_oauth_redirect_free(out);
            return -1;
        }
        if (slot) *slot = v;
        else free(v);
        q = amp ? amp + 1 : end;
    }
    return 0;
}

/* ---- URLs ---- */

int mcp_oauth_url_split(const char *url, char **origin, char **path)
{
    *origin = *path = NULL;
    if (!url) return -1;
    size_t skip;
    if (strncasecmp(url, "http://", 7) == 0) skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0) skip = 8;
    else return -1;
    const char *a = url + skip;
    size_t alen = strcspn(a, "/?#");
    if (alen == 0 || strlen(url) > MCP_OAUTH_MAX_VALUE) return -1;
    for (size_t i = 0; i < alen; i++)
        if ((unsigned char)a[i] <= ' ' || a[i] == '\\') return -1;
    const char *p = a + alen;
    size_t plen = *p == '/' ? strcspn(p, "?#") : 0;
    *origin = dupn(url, skip + alen);
    *path = dupn(p, plen);
    return 0;
}

static char *join3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *d = malloc(la + lb + lc + 1);
    if (!d) abort();
    memcpy(d, a, la);
    memcpy(d + la, b, lb);
    memcpy(d + la + lb, c, lc);
    d[la + lb + lc] = '\0';
    return d;
}

/* path without its trailing '/' ("/" and "" give "") */
static void trim_slash(char *path)
{
    size_t n = strlen(path);
    while (n && path[n - 1] == '/') path[--n] = '\0';
}

size_t mcp_oauth_prm_urls(const char *server_url, char *out[2])
{
    char *origin, *path;
    if (mcp_oauth_url_split(server_url, &origin, &path) < 0) return 0;
    trim_slash(path);
    size_t n = 0;
    if (path[0]) out[n++] = join3(origin, "/.well-known/oauth-protected-resource", path);
    out[n++] = join3(origin, "/.well-known/oauth-protected-resource", "");
    free(origin);
    free(path);
    return n;
}

size_t mcp_oauth_as_urls(const char *issuer, char *out[3])
{
    char *origin, *path;
    if (mcp_oauth_url_split(issuer, &origin, &path) < 0) return 0;
    trim_slash(path);
    size_t n = 0;
    if (path[0]) {
        out[n++] = join3(origin, "/.well-known/oauth-authorization-server", path);
        out[n++] = join3(origin, "/.well-known/openid-configuration", path);
        char *base = join3(origin, path, "");
        out[n++] = join3(base, "/.well-known/openid-configuration", "");
        free(base);
    } else {
        out[n++] = join3(origin, "/.well-known/oauth-authorization-server", "");
        out[n++] = join3(origin, "/.well-known/openid-configuration", "");
    }
    free(origin);
    free(path);
    return n;
}

int mcp_oauth_resource_matches(const char *resource, const char *server_url)
{
    char *ro, *rp, *so, *sp;
    if (mcp_oauth_url_split(resource, &ro, &rp) < 0) return 0;
    if (mcp_oauth_url_split(server_url, &so, &sp) < 0) {
        free(ro);
        free(rp);
        return 0;
    }
    int ok = 0;
    if (strcasecmp(ro, so) == 0 && !strpbrk(resource, "#")) {
        trim_slash(rp);
        trim_slash(sp);
        size_t n = strlen(rp);
        ok = n == 0 || (strncmp(rp, sp, n) == 0 && (sp[n] == '\0' || sp[n] == '/'));
    }
    free(ro);
    free(rp);
    free(so);
    free(sp);
    return ok;
}

char *mcp_oauth_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_reserve(&b, strlen(s) + 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            pa_buf_putc(&b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            pa_buf_put(&b, e, 3);
        }
    }
    return pa_buf_detach(&b, NULL);
}

/* ---- scopes ---- */

static int set_has_n(const char *set, const char *s, size_t n)
{
    if (!set) return 0;
    const char *p = set;
    while (*p) {
        while (*p == ' ') p++;
        size_t m = strcspn(p, " ");
        if (m == n && m && strncmp(p, s, n) == 0) return 1;
        p += m;
    }
    return 0;
}

int mcp_oauth_scope_has(const char *set, const char *s)
{
    return s && set_has_n(set, s, strlen(s));
}

char *mcp_oauth_scope_union(const char *a, const char *b)
{
    pa_buf_t o = PA_BUF_INIT;
    const char *sets[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        const char *p = sets[k];
        if (!p) continue;
        while (*p) {
            while (*p == ' ') p++;
            size_t m = strcspn(p, " ");
            if (m && !(o.data && set_has_n(o.data, p, m))) {
                if (o.len) pa_buf_putc(&o, ' ');
                pa_buf_put(&o, p, m);
            }
            p += m;
        }
    }
    if (!o.len) {
        pa_buf_free(&o);
        return NULL;
    }
    return pa_buf_detach(&o, NULL);
}

int mcp_oauth_scope_subset(const char *a, const char *b)
{
    if (!a) return 1;
    const char *p = a;
    while (*p) {
        while (*p == ' ') p++;
        size_t m = strcspn(p, " ");
        if (m && !set_has_n(b, p, m)) return 0;
        p += m;
    }
    return 1;
}

/* ---- base64 and PKCE ---- */

static void b64_any(const unsigned char *in, size_t n, char *out, const char *alpha, int pad)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        if (pad) out[o++] = '=';
    }
    out[o] = '\0';
}

void mcp_oauth_b64url(const unsigned char *in, size_t n, char *out)
{
    b64_any(in, n, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 0);
}

char *mcp_oauth_b64(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out) abort();
    b64_any(in, n, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 1);
    return out;
}

void mcp_oauth_pkce_challenge(const char *verifier, char out[44])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)verifier, strlen(verifier), md);
    mcp_oauth_b64url(md, sizeof md, out);
}
