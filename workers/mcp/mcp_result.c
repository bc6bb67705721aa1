/* The mcp worker's pure parts; see mcp_result.h. */
#include "mcp_result.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_buf.h"

json_t *mcp_result_value(const json_t *result)
{
    const json_t *sc = json_object_get(result, "structuredContent");
    if (json_is_object(sc) || json_is_array(sc)) return json_deep_copy(sc);
    pa_buf_t text = PA_BUF_INIT;
    size_t i, ntext = 0;
    const json_t *item;
    json_array_foreach(json_object_get(result, "content"), i, item) {
        const char *type = json_string_value(json_object_get(item, "type"));
        const json_t *t = json_object_get(item, "text");
        if (!type || strcmp(type, "text") != 0 || !json_is_string(t)) continue;
        if (ntext++) pa_buf_putc(&text, '\n');
        pa_buf_put(&text, json_string_value(t), json_string_length(t));
    }
    json_t *v = NULL;
    if (ntext) {
        v = json_loadb(text.data, text.len, JSON_DECODE_ANY, NULL);
        if (v && !json_is_object(v) && !json_is_array(v)) {
            json_decref(v);
            v = NULL;
        }
        if (!v) v = json_pack("{s:s%}", "text", text.data, text.len);
    }
    pa_buf_free(&text);
    return v;
}

int mcp_result_ttl_ms(const json_t *result, long long *ttl_ms)
{
    const json_t *t = json_object_get(result, "ttlMs");
    double d;
    if (json_is_integer(t)) d = (double)json_integer_value(t);
    else if (json_is_real(t)) d = json_real_value(t);
    else return 0;
    if (!(d >= 0) || d > 9.0e15 || d != (double)(long long)d) return 0;
    *ttl_ms = (long long)d;
    return 1;
}

/* The host of a URL (after scheme://, without user information, port, path) into out. */
static int url_host(const char *url, char *out, size_t n)
{
    const char *s = strstr(url, "://");
    s = s ? s + 3 : url;
    size_t len = strcspn(s, "/?#");
    const char *at = memchr(s, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    if (len && s[0] == '[') return -1; /* an IPv6 literal: no domain */
    const char *colon = memchr(s, ':', len);
    if (colon) len = (size_t)(colon - s);
    if (!len || len >= n) return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

/* Lowercases, drops a trailing dot and a leading "www."; 0 when what is left is a domain. */
static int tidy(char *d)
{
    for (char *p = d; *p; p++) *p = (char)tolower((unsigned char)*p);
    size_t len = strlen(d);
    if (len && d[len - 1] == '.') d[--len] = '\0';
    if (strncmp(d, "www.", 4) == 0 && strchr(d + 4, '.')) memmove(d, d + 4, len - 3);
    return mcp_domain_valid(d) ? 0 : -1;
}

int mcp_domain_of(const char *target, const json_t *input, char *out, size_t n)
{
    if (!n) return -1;
    out[0] = '\0';
    if (target && *target && url_host(target, out, n) == 0 && tidy(out) == 0) return 0;
    const char *site = json_string_value(json_object_get(input, "website"));
    if (site && *site && url_host(site, out, n) == 0 && tidy(out) == 0) return 0;
    const char *email = json_string_value(json_object_get(input, "email"));
    const char *at = email ? strrchr(email, '@') : NULL;
    if (at && strlen(at + 1) < n) {
        snprintf(out, n, "%s", at + 1);
        if (tidy(out) == 0) return 0;
    }
    out[0] = '\0';
    return -1;
}

int mcp_domain_valid(const char *s)
{
    size_t len = strlen(s), label = 0, labels = 0;
    if (len < 1 || len > 253) return 0;
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-') return 0;
            labels++;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)c) && c != '-') return 0;
        if (c == '-' && label == 0) return 0;
        label++;
    }
    return labels >= 2;
}

/* ---- arguments against an input schema ---- */

static int type_is(const json_t *v, const char *type)
{
    if (strcmp(type, "object") == 0) return json_is_object(v);
    if (strcmp(type, "array") == 0) return json_is_array(v);
    if (strcmp(type, "string") == 0) return json_is_string(v);
    if (strcmp(type, "number") == 0) return json_is_number(v);
    if (strcmp(type, "boolean") == 0) return json_is_boolean(v);
    if (strcmp(type, "null") == 0) return json_is_null(v);
    if (strcmp(type, "integer") == 0) {
        if (json_is_integer(v)) return 1;
        double d = json_real_value(v);
        return json_is_real(v) && d == (double)(long long)d;
    }
    return 1; /* a type this check does not know: not the caller's mistake */
}

/* 1 when v matches the "type" of schema (or it has none). want: the expected type(s), for the
 * message. */
static int type_ok(const json_t *schema, const json_t *v, pa_buf_t *want)
{
    const json_t *t = json_object_get(schema, "type");
    if (json_is_string(t)) {
        pa_buf_puts(want, json_string_value(t));
        return type_is(v, json_string_value(t));
    }
    if (!json_is_array(t) || json_array_size(t) == 0) return 1;
    size_t i;
    const json_t *e;
    int ok = 0, any = 0;
    json_array_foreach(t, i, e) {
        if (!json_is_string(e)) return 1;
        if (any++) pa_buf_puts(want, " or ");
        pa_buf_puts(want, json_string_value(e));
        ok |= type_is(v, json_string_value(e));
    }
    return ok;
}

static const char *kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

int mcp_args_check(const json_t *schema, const json_t *arguments, char *err, size_t errlen)
{
    if (!json_is_object(arguments)) {
        snprintf(err, errlen, "arguments: must be an object");
        return -1;
    }
    if (!json_is_object(schema)) return 0;
    const json_t *props = json_object_get(schema, "properties");
    size_t i;
    const json_t *name;
    json_array_foreach(json_object_get(schema, "required"), i, name) {
        const char *n = json_string_value(name);
        if (n && !json_object_get(arguments, n)) {
            snprintf(err, errlen, "arguments.%.100s: is required", n);
            return -1;
        }
    }
    const char *key;
    const json_t *v;
    int closed = json_is_false(json_object_get(schema, "additionalProperties"));
    json_object_foreach((json_t *)arguments, key, v) {
        const json_t *ps = json_object_get(props, key);
        if (!ps) {
            if (closed) {
                snprintf(err, errlen, "arguments.%.100s: is not a parameter of this tool", key);
                return -1;
            }
            continue;
        }
        pa_buf_t want = PA_BUF_INIT;
        int ok = type_ok(ps, v, &want);
        if (!ok)
            snprintf(err, errlen, "arguments.%.100s: must be %.100s, not %s", key, want.data,
                     kind(v));
        pa_buf_free(&want);
        if (!ok) return -1;
    }
    return 0;
}

/* ---- cache key ---- */

static int safe_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 0;
    return 1;
}

int mcp_cache_key(const char *prefix, const char *server, const char *tool, const json_t *arguments,
                  char *out, size_t outlen)
{
    char *canon = arguments ? json_dumps(arguments, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
                            : strdup("{}");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* the tool name (with its NUL) first, so that no two calls hash the same bytes */
    int ok = canon && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, tool, strlen(tool) + 1) == 1 &&
             EVP_DigestUpdate(ctx, canon, strlen(canon)) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    free(canon);
    int k =
        snprintf(out, outlen, "%smcp:cache:%s:%s:", prefix, server, safe_name(tool) ? tool : "~");
    if (!ok || k < 0 || (size_t)k + 2 * mdlen >= outlen) {
        if (outlen) out[0] = '\0';
        return -1;
    }
    for (unsigned i = 0; i < mdlen; i++) k += snprintf(out + k, outlen - (size_t)k, "%02x", md[i]);
    return 0;
}

int mcp_oauth_store_key(const char *prefix, const char *server, const char *key, char *out,
                        size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) == 1;
    int k = snprintf(out, outlen, "%smcp:oauth:%s:", prefix, server);
    if (!ok || k < 0 || (size_t)k + 2 * mdlen >= outlen) {
        if (outlen) out[0] = '\0';
        return -1;
    }
    for (unsigned i = 0; i < mdlen; i++) k += snprintf(out + k, outlen - (size_t)k, "%02x", md[i]);
    return 0;
}
