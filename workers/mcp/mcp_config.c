/* The MCP_SERVERS file (see mcp_config.h). */
#include "mcp_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcp_jsonrpc.h"
#include "pa_buf.h"
#include "pa_mem.h"
#include "pa_utf8.h"

#define MAX_COMMAND 4096
#define MAX_TOOL_NAME 128
#define MAX_PREFIX 256
#define MAX_ENV_NAME 128

const char *const mcp_protocol_versions[] = {"2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26",
                                             NULL};

int mcp_protocol_version_known(const char *v)
{
    for (const char *const *p = mcp_protocol_versions; v && *p; p++)
        if (strcmp(*p, v) == 0) return 1;
    return 0;
}

const char *mcp_transport_name(mcp_transport_t t)
{
    switch (t) {
    case MCP_TRANSPORT_HTTP: return "http";
    case MCP_TRANSPORT_SSE: return "sse";
    case MCP_TRANSPORT_STDIO: return "stdio";
    }
    return "?";
}

static const char *const tool_names[MCP_TOOL_COUNT] = {"enrich_company", "search_contacts"};
/* The template variables of each tool, NULL-terminated. */
static const char *const enrich_vars[] = {"domain", NULL};
static const char *const search_vars[] = {"query", "limit", NULL};
static const char *const *const tool_vars[MCP_TOOL_COUNT] = {enrich_vars, search_vars};
static const char *const tool_vars_text[MCP_TOOL_COUNT] = {"{{domain}}", "{{query}} and {{limit}}"};

const char *mcp_tool_name(mcp_tool_t t)
{
    return (unsigned)t < MCP_TOOL_COUNT ? tool_names[t] : "?";
}

/* ---- validation context ---- */

typedef struct {
    mcp_config_err_t *err;
    int failed;
} vctx_t;

static int fail(vctx_t *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(vctx_t *v, const char *field, const char *fmt, ...)
{
    if (v->failed) return -1;
    v->failed = 1;
    if (!v->err) return -1;
    char detail[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(v->err->field, sizeof v->err->field, "%s", field ? field : "");
    if (field && *field) snprintf(v->err->message, sizeof v->err->message, "%s: %s", field, detail);
    else snprintf(v->err->message, sizeof v->err->message, "%s", detail);
    return -1;
}

/* Every member of o is one of allowed (NULL-terminated). */
static int only(vctx_t *v, const json_t *o, const char *where, const char *const *allowed)
{
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)o, k, x) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, k) == 0;
        if (!ok) {
            char f[256];
            snprintf(f, sizeof f, "%s%s%.64s", where, *where ? "." : "", k);
            return fail(v, f, "unknown field");
        }
    }
    return 0;
}

/* A string member of 1..max bytes of UTF-8 without control characters; NULL when absent (an
 * error when required) or wrong. */
static const char *str_member(vctx_t *v, const json_t *o, const char *name, const char *path,
                              size_t max, int required)
{
    json_t *x = json_object_get(o, name);
    if (!x) {
        if (required) fail(v, path, "is required");
        return NULL;
    }
    size_t n = json_string_length(x);
    if (!json_is_string(x) || n == 0 || n > max) {
        fail(v, path, "must be a string of 1 to %zu bytes", max);
        return NULL;
    }
    const char *s = json_string_value(x);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            fail(v, path, "must not hold control characters");
            return NULL;
        }
    return s;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > MCP_CONFIG_MAX_NAME) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

static int env_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > MAX_ENV_NAME || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int header_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr("!#$%&'*+-.^_`|~", s[i])))
            return 0;
    return 1;
}

/* Headers the client sets itself. */
static int header_reserved(const char *s)
{
    static const char *const reserved[] = {"content-type",   "accept",
                                           "host",           "content-length",
                                           "connection",     "transfer-encoding",
                                           "mcp-session-id", "mcp-protocol-version",
                                           "mcp-method",     "mcp-name",
                                           "last-event-id",  NULL};
    for (const char *const *r = reserved; *r; r++)
        if (strcasecmp(*r, s) == 0) return 1;
    return strncasecmp(s, "mcp-param-", 10) == 0;
}

static int url_ok(const char *s)
{
    size_t n = strlen(s), skip;
    if (n > MCP_CONFIG_MAX_URL) return 0;
    if (strncasecmp(s, "http://", 7) == 0) skip = 7;
    else if (strncasecmp(s, "https://", 8) == 0) skip = 8;
    else return 0;
    if (n == skip || s[skip] == '/' || s[skip] == '?' || s[skip] == '#') return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return 0;
    return 1;
}

/* ---- templates ---- */

/* The placeholder starting at s ("{{" already seen at s): its name in name (len in *nl) and the
 * length of the whole placeholder; 0 when it is not closed. */
static size_t placeholder(const char *s, size_t n, const char **name, size_t *nl)
{
    const char *end = NULL;
    for (size_t i = 2; i + 1 < n; i++)
        if (s[i] == '}' && s[i + 1] == '}') {
            end = s + i;
            break;
        }
    if (!end) return 0;
    *name = s + 2;
    *nl = (size_t)(end - (s + 2));
    return (size_t)(end - s) + 2;
}

static int var_known(const char *const *vars, const char *name, size_t nl)
{
    for (; *vars; vars++)
        if (strlen(*vars) == nl && memcmp(*vars, name, nl) == 0) return 1;
    return 0;
}

static int check_template(vctx_t *v, const json_t *t, mcp_tool_t tool, const char *path)
{
    char f[256];
    if (json_is_object(t)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)t, k, x) {
            snprintf(f, sizeof f, "%s.%.64s", path, k);
            if (check_template(v, x, tool, f) < 0) return -1;
        }
    } else if (json_is_array(t)) {
        size_t i;
        json_t *x;
        json_array_foreach(t, i, x) {
            snprintf(f, sizeof f, "%s[%zu]", path, i);
            if (check_template(v, x, tool, f) < 0) return -1;
        }
    } else if (json_is_string(t)) {
        const char *s = json_string_value(t);
        size_t n = json_string_length(t);
        for (size_t i = 0; i + 1 < n; i++) {
            if (s[i] != '{' || s[i + 1] != '{') continue;
            const char *name;
            size_t nl, len = placeholder(s + i, n - i, &name, &nl);
            if (!len) return fail(v, path, "a placeholder opened with {{ is not closed with }}");
            if (!var_known(tool_vars[tool], name, nl))
                return fail(v, path, "unknown placeholder {{%.*s}} (%s has %s)",
                            (int)(nl > 64 ? 64 : nl), name, tool_names[tool], tool_vars_text[tool]);
            i += len - 1;
        }
    }
    return 0;
}

/* The text of a variable's value inside a string. */
static void put_text(pa_buf_t *b, const json_t *x)
{
    if (!x || json_is_null(x)) return;
    if (json_is_string(x)) pa_buf_put(b, json_string_value(x), json_string_length(x));
    else if (json_is_integer(x)) pa_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
    else if (json_is_real(x)) pa_buf_printf(b, "%.17g", json_real_value(x));
    else if (json_is_boolean(x)) pa_buf_puts(b, json_is_true(x) ? "true" : "false");
    else {
        char *s = json_dumps(x, JSON_COMPACT);
        if (s) pa_buf_puts(b, s);
        free(s);
    }
}

static json_t drop_marker; /* "leave this member out"; only its address is used */
#define DROP (&drop_marker)

static json_t *render(const json_t *t, const json_t *vars, char *err, size_t errlen, int depth)
{
    if (depth > MCP_CONFIG_MAX_DEPTH) {
        snprintf(err, errlen, "the template is nested deeper than %d", MCP_CONFIG_MAX_DEPTH);
        return NULL;
    }
    if (json_is_object(t)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)t, k, x) {
            json_t *r = render(x, vars, err, errlen, depth + 1);
            if (!r) {
                json_decref(o);
                return NULL;
            }
            if (r != DROP) json_object_set_new(o, k, r);
        }
        return o;
    }
    if (json_is_array(t)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(t, i, x) {
            json_t *r = render(x, vars, err, errlen, depth + 1);
            if (!r) {
                json_decref(a);
                return NULL;
            }
            if (r != DROP) json_array_append_new(a, r);
        }
        return a;
    }
    if (!json_is_string(t)) return json_deep_copy(t);
    const char *s = json_string_value(t);
    size_t n = json_string_length(t);
    const char *name;
    size_t nl;
    if (n >= 4 && s[0] == '{' && s[1] == '{' && placeholder(s, n, &name, &nl) == n) {
        char key[MAX_ENV_NAME + 1];
        snprintf(key, sizeof key, "%.*s", (int)(nl > MAX_ENV_NAME ? MAX_ENV_NAME : nl), name);
        json_t *x = json_object_get(vars, key);
        return !x || json_is_null(x) ? DROP : json_deep_copy(x);
    }
    pa_buf_t b = PA_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && s[i] == '{' && s[i + 1] == '{') {
            size_t len = placeholder(s + i, n - i, &name, &nl);
            if (!len) {
                snprintf(err, errlen, "a placeholder opened with {{ is not closed with }}");
                pa_buf_free(&b);
                return NULL;
            }
            char key[MAX_ENV_NAME + 1];
            snprintf(key, sizeof key, "%.*s", (int)(nl > MAX_ENV_NAME ? MAX_ENV_NAME : nl), name);
            put_text(&b, json_object_get(vars, key));
            i += len - 1;
            continue;
        }
        pa_buf_putc(&b, s[i]);
    }
    json_t *r = json_stringn(b.data ? b.data : "", b.len);
    pa_buf_free(&b);
    if (!r) snprintf(err, errlen, "the rendered text is not UTF-8");
    return r;
}

json_t *mcp_config_render_args(const json_t *tmpl, const json_t *vars, char *err, size_t errlen)
{
    char scratch[8];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (!json_is_object(tmpl)) {
        snprintf(err, errlen, "the template must be an object");
        return NULL;
    }
    return render(tmpl, vars, err, errlen, 0);
}

/* ---- the file ---- */

static void free_refs(mcp_env_ref_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].name);
        free(r[i].env);
        free(r[i].prefix);
    }
    free(r);
}

static void server_free(mcp_server_conf_t *s)
{
    free(s->name);
    free(s->url);
    free(s->command);
    for (size_t i = 0; i < s->nargs; i++) free(s->args[i]);
    free(s->args);
    free_refs(s->headers, s->nheaders);
    free_refs(s->env, s->nenv);
    free(s->protocol_version);
    for (int t = 0; t < MCP_TOOL_COUNT; t++) {
        free(s->tools[t].tool);
        json_decref(s->tools[t].arguments);
    }
    free(s->oauth.client_id);
    free(s->oauth.client_secret.name);
    free(s->oauth.client_secret.env);
    free(s->oauth.client_secret.prefix);
    free(s->oauth.scope);
    free(s->oauth.client_metadata_url);
    free(s->oauth.redirect_uri);
}

void mcp_config_free(mcp_config_t **c)
{
    if (!c || !*c) return;
    for (size_t i = 0; i < (*c)->nservers; i++) server_free(&(*c)->servers[i]);
    free((*c)->servers);
    free(*c);
    *c = NULL;
}

/* An object of names to {"env": NAME, "prefix"?: TEXT}; headers when is_header. */
static int parse_refs(vctx_t *v, const json_t *o, const char *path, int is_header,
                      mcp_env_ref_t **out, size_t *nout)
{
    static const char *const ref_fields[] = {"env", "prefix", NULL};
    char f[256];
    if (!json_is_object(o))
        return fail(v, path, "must be an object of names to {\"env\": VARIABLE}");
    if (json_object_size(o) > MCP_CONFIG_MAX_HEADERS)
        return fail(v, path, "at most %d entries", MCP_CONFIG_MAX_HEADERS);
    *out = pa_calloc(json_object_size(o) + 1, sizeof **out);
    *nout = 0;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)o, k, x) {
        snprintf(f, sizeof f, "%s.%.64s", path, k);
        if (is_header && !header_name_ok(k))
            return fail(v, f, "not a header name (1 to 64 of A-Z a-z 0-9 !#$%%&'*+-.^_`|~)");
        if (is_header && header_reserved(k)) return fail(v, f, "the client sets this header");
        if (!is_header && !env_name_ok(k))
            return fail(v, f, "not a variable name (A-Z a-z 0-9 _, not starting with a digit)");
        for (size_t i = 0; i < *nout; i++)
            if (is_header ? strcasecmp((*out)[i].name, k) == 0 : strcmp((*out)[i].name, k) == 0)
                return fail(v, f, "named twice");
        if (json_is_string(x))
            return fail(v, f,
                        "must be {\"env\": VARIABLE}: values (secrets) are never written in "
                        "this file");
        if (!json_is_object(x)) return fail(v, f, "must be {\"env\": VARIABLE, \"prefix\"?: TEXT}");
        if (only(v, x, f, ref_fields) < 0) return -1;
        char ff[300];
        snprintf(ff, sizeof ff, "%s.env", f);
        const char *env = str_member(v, x, "env", ff, MAX_ENV_NAME, 1);
        if (!env) return -1;
        if (!env_name_ok(env))
            return fail(v, ff, "not a variable name (A-Z a-z 0-9 _, not starting with a digit)");
        snprintf(ff, sizeof ff, "%s.prefix", f);
        const char *prefix = NULL;
        if (json_object_get(x, "prefix")) {
            json_t *p = json_object_get(x, "prefix");
            if (json_is_string(p) && json_string_length(p) == 0) prefix = "";
            else if (!(prefix = str_member(v, x, "prefix", ff, MAX_PREFIX, 1))) return -1;
        }
        mcp_env_ref_t *r = &(*out)[(*nout)++];
        r->name = pa_strdup(k);
        r->env = pa_strdup(env);
        r->prefix = pa_strdup(prefix ? prefix : "");
    }
    return 0;
}

static int parse_tools(vctx_t *v, const json_t *o, const char *path, mcp_server_conf_t *s)
{
    static const char *const map_fields[] = {"tool", "arguments", NULL};
    char f[320], ff[352];
    if (!json_is_object(o))
        return fail(v, path, "must be an object {enrich_company?, search_contacts?}");
    static const char *const fields[] = {"enrich_company", "search_contacts", NULL};
    if (only(v, o, path, fields) < 0) return -1;
    for (int t = 0; t < MCP_TOOL_COUNT; t++) {
        json_t *m = json_object_get(o, tool_names[t]);
        if (!m) continue;
        snprintf(f, sizeof f, "%s.%s", path, tool_names[t]);
        if (!json_is_object(m)) return fail(v, f, "must be an object {tool, arguments?}");
        if (only(v, m, f, map_fields) < 0) return -1;
        snprintf(ff, sizeof ff, "%s.tool", f);
        const char *tool = str_member(v, m, "tool", ff, MAX_TOOL_NAME, 1);
        if (!tool) return -1;
        json_t *args = json_object_get(m, "arguments");
        snprintf(ff, sizeof ff, "%s.arguments", f);
        if (args) {
            if (!json_is_object(args))
                return fail(v, ff, "must be an object (the tool's arguments)");
            if (check_template(v, args, (mcp_tool_t)t, ff) < 0) return -1;
            s->tools[t].arguments = json_deep_copy(args);
        } else {
            s->tools[t].arguments = t == MCP_TOOL_ENRICH_COMPANY
                                        ? json_pack("{s:s}", "domain", "{{domain}}")
                                        : json_pack("{s:s}", "query", "{{query}}");
        }
        s->tools[t].tool = pa_strdup(tool);
    }
    return 0;
}

/* "oauth": see mcp_oauth_conf_t. */
static int parse_oauth(vctx_t *v, const json_t *o, const char *path, mcp_oauth_conf_t *a)
{
    static const char *const fields[] = {"client_id", "client_secret",       "client_credentials",
                                         "scope",     "client_metadata_url", "redirect_uri",
                                         NULL};
    char f[300];
    if (!json_is_object(o))
        return fail(v, path,
                    "must be an object {client_id?, client_secret?, client_credentials?, "
                    "scope?, client_metadata_url?, redirect_uri?}");
    if (only(v, o, path, fields) < 0) return -1;
    a->on = 1;
    static const char *const texts[] = {"client_id", "scope", "client_metadata_url",
                                        "redirect_uri"};
    char **dst[] = {&a->client_id, &a->scope, &a->client_metadata_url, &a->redirect_uri};
    for (int i = 0; i < 4; i++) {
        if (!json_object_get(o, texts[i])) continue;
        snprintf(f, sizeof f, "%s.%s", path, texts[i]);
        const char *x = str_member(v, o, texts[i], f, i >= 2 ? MCP_CONFIG_MAX_URL : 256, 1);
        if (!x) return -1;
        if (i >= 2 && !url_ok(x))
            return fail(v, f, "must be an http:// or https:// URL with a host (no spaces)");
        *dst[i] = pa_strdup(x);
    }
    json_t *sec = json_object_get(o, "client_secret");
    snprintf(f, sizeof f, "%s.client_secret", path);
    if (sec) {
        if (json_is_string(sec))
            return fail(v, f,
                        "must be {\"env\": VARIABLE}: values (secrets) are never written in "
                        "this file");
        static const char *const ref_fields[] = {"env", NULL};
        if (!json_is_object(sec)) return fail(v, f, "must be {\"env\": VARIABLE}");
        if (only(v, sec, f, ref_fields) < 0) return -1;
        char ff[320];
        snprintf(ff, sizeof ff, "%s.env", f);
        const char *env = str_member(v, sec, "env", ff, MAX_ENV_NAME, 1);
        if (!env) return -1;
        if (!env_name_ok(env))
            return fail(v, ff, "not a variable name (A-Z a-z 0-9 _, not starting with a digit)");
        if (!a->client_id) return fail(v, f, "needs client_id");
        a->client_secret.name = pa_strdup("client_secret");
        a->client_secret.env = pa_strdup(env);
        a->client_secret.prefix = pa_strdup("");
    }
    json_t *cc = json_object_get(o, "client_credentials");
    snprintf(f, sizeof f, "%s.client_credentials", path);
    if (cc && !json_is_boolean(cc)) return fail(v, f, "must be true or false");
    a->client_credentials = json_is_true(cc);
    if (a->client_credentials && !a->client_secret.env)
        return fail(v, f, "needs client_id and client_secret");
    return 0;
}

static int parse_server(vctx_t *v, const json_t *o, size_t idx, mcp_config_t *c)
{
    static const char *const fields[] = {
        "name",       "transport", "url",   "command", "args", "env", "headers", "protocol_version",
        "timeout_ms", "enabled",   "tools", "oauth",   NULL};
    mcp_server_conf_t *s = &c->servers[idx];
    char p[64], f[256];
    snprintf(p, sizeof p, "servers[%zu]", idx);
    if (!json_is_object(o))
        return fail(v, p, "must be an object {name, transport, url or command, ...}");
    if (only(v, o, p, fields) < 0) return -1;

    snprintf(f, sizeof f, "%s.name", p);
    const char *name = str_member(v, o, "name", f, MCP_CONFIG_MAX_NAME, 1);
    if (!name) return -1;
    if (!name_ok(name)) return fail(v, f, "must be 1 to %d of a-z 0-9 _ -", MCP_CONFIG_MAX_NAME);
    for (size_t i = 0; i < idx; i++)
        if (strcmp(c->servers[i].name, name) == 0)
            return fail(v, f, "\"%s\" is already the name of servers[%zu]", name, i);
    s->name = pa_strdup(name);

    snprintf(f, sizeof f, "%s.transport", p);
    const char *tr = str_member(v, o, "transport", f, 16, 1);
    if (!tr) return -1;
    if (strcmp(tr, "http") == 0) s->transport = MCP_TRANSPORT_HTTP;
    else if (strcmp(tr, "sse") == 0) s->transport = MCP_TRANSPORT_SSE;
    else if (strcmp(tr, "stdio") == 0) s->transport = MCP_TRANSPORT_STDIO;
    else return fail(v, f, "must be \"http\", \"sse\" or \"stdio\"");
    int remote = s->transport != MCP_TRANSPORT_STDIO;

    snprintf(f, sizeof f, "%s.url", p);
    if (!remote && json_object_get(o, "url"))
        return fail(v, f, "only for the http and sse transports");
    if (remote) {
        const char *url = str_member(v, o, "url", f, MCP_CONFIG_MAX_URL, 1);
        if (!url) return -1;
        if (!url_ok(url))
            return fail(v, f, "must be an http:// or https:// URL with a host (no spaces)");
        s->url = pa_strdup(url);
    }

    static const char *const stdio_only[] = {"command", "args", "env"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s.%s", p, stdio_only[i]);
        if (remote && json_object_get(o, stdio_only[i]))
            return fail(v, f, "only for the stdio transport");
    }
    if (!remote) {
        snprintf(f, sizeof f, "%s.command", p);
        const char *cmd = str_member(v, o, "command", f, MAX_COMMAND, 1);
        if (!cmd) return -1;
        s->command = pa_strdup(cmd);
        json_t *args = json_object_get(o, "args");
        snprintf(f, sizeof f, "%s.args", p);
        if (args) {
            if (!json_is_array(args) || json_array_size(args) > MCP_CONFIG_MAX_ARGS)
                return fail(v, f, "must be an array of at most %d strings", MCP_CONFIG_MAX_ARGS);
            s->args = pa_calloc(json_array_size(args) + 1, sizeof *s->args);
            size_t i;
            json_t *x;
            json_array_foreach(args, i, x) {
                char fa[300];
                snprintf(fa, sizeof fa, "%s[%zu]", f, i);
                if (!json_is_string(x) || json_string_length(x) > MAX_COMMAND)
                    return fail(v, fa, "must be a string of at most %d bytes", MAX_COMMAND);
                s->args[s->nargs++] = pa_strdup(json_string_value(x));
            }
        }
        json_t *env = json_object_get(o, "env");
        snprintf(f, sizeof f, "%s.env", p);
        if (env && parse_refs(v, env, f, 0, &s->env, &s->nenv) < 0) return -1;
    }

    json_t *headers = json_object_get(o, "headers");
    snprintf(f, sizeof f, "%s.headers", p);
    if (headers && !remote) return fail(v, f, "only for the http and sse transports");
    if (headers && parse_refs(v, headers, f, 1, &s->headers, &s->nheaders) < 0) return -1;

    snprintf(f, sizeof f, "%s.protocol_version", p);
    const char *pv = json_object_get(o, "protocol_version")
                         ? str_member(v, o, "protocol_version", f, 32, 1)
                         : "auto";
    if (!pv) return -1;
    if (strcmp(pv, "auto") != 0) {
        if (!mcp_protocol_version_known(pv)) {
            pa_buf_t known = PA_BUF_INIT;
            for (const char *const *k = mcp_protocol_versions; *k; k++)
                pa_buf_printf(&known, ", \"%s\"", *k);
            fail(v, f, "must be \"auto\"%s", known.data);
            pa_buf_free(&known);
            return -1;
        }
        s->protocol_version = pa_strdup(pv);
    }

    snprintf(f, sizeof f, "%s.timeout_ms", p);
    json_t *to = json_object_get(o, "timeout_ms");
    s->timeout_ms = MCP_CONFIG_TIMEOUT_DEFAULT_MS;
    if (to) {
        if (!json_is_integer(to) || json_integer_value(to) < 1 || json_integer_value(to) > 600000)
            return fail(v, f, "must be an integer from 1 to 600000");
        s->timeout_ms = (long)json_integer_value(to);
    }

    snprintf(f, sizeof f, "%s.enabled", p);
    json_t *en = json_object_get(o, "enabled");
    if (en && !json_is_boolean(en)) return fail(v, f, "must be true or false");
    s->enabled = !en || json_is_true(en);

    json_t *tools = json_object_get(o, "tools");
    snprintf(f, sizeof f, "%s.tools", p);
    if (tools && parse_tools(v, tools, f, s) < 0) return -1;

    json_t *oauth = json_object_get(o, "oauth");
    snprintf(f, sizeof f, "%s.oauth", p);
    if (oauth && !remote) return fail(v, f, "only for the http and sse transports");
    if (oauth && parse_oauth(v, oauth, f, &s->oauth) < 0) return -1;
    return 0;
}

int mcp_config_parse(const char *text, size_t len, mcp_config_t **out, mcp_config_err_t *err)
{
    static const char *const top_fields[] = {"servers", NULL};
    vctx_t v = {err, 0};
    *out = NULL;
    if (err) err->field[0] = err->message[0] = '\0';
    if (len > MCP_CONFIG_MAX_BYTES)
        return fail(&v, "", "the file is larger than %zu bytes", MCP_CONFIG_MAX_BYTES);
    if (!mcp_json_depth_ok(text, len, MCP_CONFIG_MAX_DEPTH))
        return fail(&v, "", "nested deeper than %d", MCP_CONFIG_MAX_DEPTH);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) return fail(&v, "", "not JSON: line %d column %d: %s", je.line, je.column, je.text);
    mcp_config_t *c = pa_calloc(1, sizeof *c);
    json_t *servers = json_object_get(root, "servers");
    if (!json_is_object(root)) fail(&v, "", "must be a JSON object {\"servers\": [...]}");
    else if (only(&v, root, "", top_fields) < 0) {
    } else if (!servers) fail(&v, "servers", "is required");
    else if (!json_is_array(servers) || json_array_size(servers) > MCP_CONFIG_MAX_SERVERS)
        fail(&v, "servers", "must be an array of at most %d servers", MCP_CONFIG_MAX_SERVERS);
    else {
        c->nservers = json_array_size(servers);
        c->servers = pa_calloc(c->nservers + 1, sizeof *c->servers);
        for (size_t i = 0; i < c->nservers && !v.failed; i++)
            parse_server(&v, json_array_get(servers, i), i, c);
    }
    json_decref(root);
    if (v.failed) {
        mcp_config_free(&c);
        return -1;
    }
    *out = c;
    return 0;
}

int mcp_config_load_file(const char *path, mcp_config_t **out, mcp_config_err_t *err)
{
    vctx_t v = {err, 0};
    *out = NULL;
    if (err) err->field[0] = err->message[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return fail(&v, "", "%s: %s", path, strerror(errno));
    char *buf = pa_malloc(MCP_CONFIG_MAX_BYTES + 1);
    size_t n = fread(buf, 1, MCP_CONFIG_MAX_BYTES + 1, f);
    int rerr = ferror(f);
    fclose(f);
    int rc;
    if (rerr) rc = fail(&v, "", "%s: read error", path);
    else if (n > MCP_CONFIG_MAX_BYTES)
        rc = fail(&v, "", "%s: larger than %zu bytes", path, MCP_CONFIG_MAX_BYTES);
    else {
        rc = mcp_config_parse(buf, n, out, err);
        if (rc < 0 && err) {
            pa_buf_t m = PA_BUF_INIT;
            pa_buf_printf(&m, "%s: %s", path, err->message);
            snprintf(err->message, sizeof err->message, "%s", m.data);
            pa_buf_free(&m);
        }
    }
    free(buf);
    return rc;
}

const mcp_server_conf_t *mcp_config_find_tool(const mcp_config_t *c, mcp_tool_t t, size_t *from)
{
    if (!c || (unsigned)t >= MCP_TOOL_COUNT) return NULL;
    for (size_t i = from ? *from : 0; i < c->nservers; i++)
        if (c->servers[i].enabled && c->servers[i].tools[t].tool) {
            if (from) *from = i;
            return &c->servers[i];
        }
    return NULL;
}

const mcp_server_conf_t *mcp_config_server(const mcp_config_t *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->nservers; i++)
        if (strcmp(c->servers[i].name, name) == 0) return &c->servers[i];
    return NULL;
}

char *mcp_env_ref_value(const mcp_env_ref_t *ref)
{
    const char *val = getenv(ref->env);
    if (!val) return NULL;
    for (const char *q = val; *q; q++)
        if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f) return NULL;
    size_t pl = strlen(ref->prefix), vl = strlen(val);
    char *s = pa_malloc(pl + vl + 1);
    memcpy(s, ref->prefix, pl);
    memcpy(s + pl, val, vl + 1);
    return s;
}

int mcp_config_check_env(const mcp_config_t *c, mcp_config_err_t *err)
{
    vctx_t v = {err, 0};
    char f[256];
    for (size_t i = 0; i < c->nservers; i++) {
        const mcp_server_conf_t *s = &c->servers[i];
        if (!s->enabled) continue;
        for (int pass = 0; pass < 2; pass++) {
            const mcp_env_ref_t *r = pass ? s->env : s->headers;
            size_t n = pass ? s->nenv : s->nheaders;
            for (size_t j = 0; j < n; j++) {
                const char *val = getenv(r[j].env);
                snprintf(f, sizeof f, "servers[%zu].%s.%.64s.env", i, pass ? "env" : "headers",
                         r[j].name);
                if (!val) return fail(&v, f, "the environment variable %s is not set", r[j].env);
                char *x = mcp_env_ref_value(&r[j]);
                if (!x)
                    return fail(&v, f, "the environment variable %s holds a control character",
                                r[j].env);
                free(x);
            }
        }
        const mcp_env_ref_t *sec = &s->oauth.client_secret;
        if (sec->env) {
            snprintf(f, sizeof f, "servers[%zu].oauth.client_secret.env", i);
            if (!getenv(sec->env))
                return fail(&v, f, "the environment variable %s is not set", sec->env);
            char *x = mcp_env_ref_value(sec);
            if (!x)
                return fail(&v, f, "the environment variable %s holds a control character",
                            sec->env);
            free(x);
        }
    }
    return 0;
}
