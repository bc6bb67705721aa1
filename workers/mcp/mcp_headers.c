/* The headers MCP 2026-07-28 derives from a request: see mcp_headers.h. */
#include "mcp_headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pa_mem.h"

int mcp_header_value_plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch > 0x7e) return 0;
    }
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' ')) return 0;
    return 1;
}

static void base64(pa_buf_t *out, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    pa_buf_reserve(out, (n + 2) / 3 * 4 + 1);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63]};
        pa_buf_put(out, q, 4);
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0u);
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=', '='};
        pa_buf_put(out, q, 4);
    }
}

void mcp_header_value_encode(pa_buf_t *out, const char *s, size_t n)
{
    if (mcp_header_value_plain(s, n)) {
        pa_buf_put(out, s, n);
        if (out->cap == 0) pa_buf_reserve(out, 1); /* NUL-terminated even when empty */
        return;
    }
    pa_buf_puts(out, "=?base64?");
    base64(out, (const unsigned char *)s, n);
    pa_buf_puts(out, "?=");
}

int mcp_param_value(pa_buf_t *out, const json_t *v)
{
    if (!v || json_is_null(v)) return 1;
    if (json_is_string(v)) {
        mcp_header_value_encode(out, json_string_value(v), json_string_length(v));
        return 0;
    }
    if (json_is_integer(v)) {
        pa_buf_printf(out, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        char tmp[64];
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) { /* the shortest text that reads back exactly */
            snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d) break;
        }
        pa_buf_puts(out, tmp);
        return 0;
    }
    if (json_is_boolean(v)) {
        pa_buf_puts(out, json_is_true(v) ? "true" : "false");
        return 0;
    }
    return -1;
}

static int tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return 1;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

int mcp_header_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > MCP_HEADER_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!tchar((unsigned char)name[i])) return 0;
    return 1;
}

static const json_t *tool_properties(const json_t *tool)
{
    const json_t *schema = json_object_get(tool, "inputSchema");
    const json_t *props = json_is_object(schema) ? json_object_get(schema, "properties") : NULL;
    return json_is_object(props) ? props : NULL;
}

int mcp_tool_headers_check(const json_t *tool, char *err, size_t errlen)
{
    const json_t *props = tool_properties(tool);
    if (!props) return 0;
    const char *seen[64];
    size_t nseen = 0;
    const char *key;
    json_t *prop;
    json_object_foreach((json_t *)props, key, prop) {
        const json_t *h = json_is_object(prop) ? json_object_get(prop, "x-mcp-header") : NULL;
        if (!h) continue;
        if (!json_is_string(h) || !mcp_header_name_valid(json_string_value(h))) {
            snprintf(err, errlen, "property %.64s: x-mcp-header is not a valid header name", key);
            return -1;
        }
        const char *type = json_string_value(json_object_get(prop, "type"));
        if (!type || (strcmp(type, "string") != 0 && strcmp(type, "integer") != 0 &&
                      strcmp(type, "boolean") != 0)) {
            snprintf(err, errlen,
                     "property %.64s: x-mcp-header on a type other than string, integer or "
                     "boolean",
                     key);
            return -1;
        }
        const char *name = json_string_value(h);
        for (size_t i = 0; i < nseen; i++)
            if (strcasecmp(seen[i], name) == 0) {
                snprintf(err, errlen, "property %.64s: x-mcp-header %s named twice", key, name);
                return -1;
            }
        if (nseen == sizeof seen / sizeof *seen) {
            snprintf(err, errlen, "more than %zu x-mcp-header parameters", nseen);
            return -1;
        }
        seen[nseen++] = name;
    }
    return 0;
}

char **mcp_tool_param_headers(const json_t *tool, const json_t *arguments, size_t *n)
{
    const json_t *props = tool_properties(tool);
    size_t cnt = 0;
    char **lines = pa_calloc(1, sizeof *lines);
    const char *key;
    json_t *prop;
    if (props && json_is_object(arguments)) {
        json_object_foreach((json_t *)props, key, prop) {
            const json_t *h = json_is_object(prop) ? json_object_get(prop, "x-mcp-header") : NULL;
            if (!json_is_string(h) || !mcp_header_name_valid(json_string_value(h))) continue;
            pa_buf_t value = PA_BUF_INIT;
            if (mcp_param_value(&value, json_object_get(arguments, key)) != 0) {
                pa_buf_free(&value);
                continue;
            }
            pa_buf_t line = PA_BUF_INIT;
            if (value.len == 0) pa_buf_printf(&line, "Mcp-Param-%s;", json_string_value(h));
            else pa_buf_printf(&line, "Mcp-Param-%s: %s", json_string_value(h), value.data);
            pa_buf_free(&value);
            lines = pa_realloc(lines, (cnt + 2) * sizeof *lines);
            lines[cnt++] = pa_buf_detach(&line, NULL);
            lines[cnt] = NULL;
        }
    }
    if (n) *n = cnt;
    return lines;
}

void mcp_header_lines_free(char **lines)
{
    if (!lines) return;
    for (size_t i = 0; lines[i]; i++) free(lines[i]);
    free(lines);
}
