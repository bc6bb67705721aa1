/* Message templates and guardrails of the compose stage (see llm_template.h). */
#include "llm_template.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RENDER_MAX_BYTES (1u << 20)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The well-formed UTF-8 sequence at s (n bytes left): its length and code point, or 0. */
/* TODO(issue 8): the suite has one UTF-8 decoder, pa_utf8_decode (common/pa_utf8.h): use it. */
static size_t u8_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (!n) return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) len = 2, v = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0) len = 3, v = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- values ------------------------------------------------------------------------------- */

static int nonblank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_blank(s[i])) return 1;
    return 0;
}

static int scalar_text(const json_t *v, pa_buf_t *out)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (!nonblank(json_string_value(v), json_string_length(v))) return 0;
        pa_buf_put(out, json_string_value(v), json_string_length(v));
        return 1;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        pa_buf_puts(out, num);
        return 1;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.15g", json_real_value(v));
        pa_buf_puts(out, num);
        return 1;
    case JSON_TRUE: pa_buf_puts(out, "true"); return 1;
    case JSON_FALSE: pa_buf_puts(out, "false"); return 1;
    default: return 0;
    }
}

static void truncate_to(pa_buf_t *b, size_t len)
{
    if (b->data && len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

static int value_text(const json_t *v, pa_buf_t *out)
{
    if (!v) return 0;
    if (!json_is_array(v)) return scalar_text(v, out);
    size_t i;
    int any = 0;
    json_t *x;
    json_array_foreach(v, i, x) {
        size_t before = out->len;
        if (any) pa_buf_puts(out, ", ");
        if (scalar_text(x, out)) any = 1;
        else truncate_to(out, before);
    }
    return any;
}

/* Dotted path (a.b.0.c) into a JSON value; NULL when a step is missing. */
static const json_t *walk(const json_t *v, const char *p, size_t n)
{
    while (v && n) {
        const char *dot = memchr(p, '.', n);
        size_t k = dot ? (size_t)(dot - p) : n;
        if (json_is_object(v)) {
            v = json_object_getn(v, p, k);
        } else if (json_is_array(v) && k > 0 && k < 10) {
            size_t idx = 0;
            for (size_t i = 0; i < k; i++) {
                if (p[i] < '0' || p[i] > '9') return NULL;
                idx = idx * 10 + (size_t)(p[i] - '0');
            }
            v = json_array_get(v, idx);
        } else {
            return NULL;
        }
        if (!dot) return v;
        p = dot + 1;
        n -= k + 1;
    }
    return NULL;
}

static int eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

static int prefixed(const char *p, size_t n, const char *pre, const char **rest, size_t *rn)
{
    size_t k = strlen(pre);
    if (n <= k || memcmp(p, pre, k) != 0) return 0;
    *rest = p + k;
    *rn = n - k;
    return 1;
}

/* first_name / last_name from input.name: the first word, and the rest. */
static int name_part(const json_t *input, int last, pa_buf_t *out)
{
    const json_t *nm = json_object_get(input, "name");
    if (!json_is_string(nm)) return 0;
    const char *s = json_string_value(nm), *e = s + json_string_length(nm);
    while (s < e && is_blank(*s)) s++;
    while (e > s && is_blank(e[-1])) e--;
    const char *w = s;
    while (w < e && !is_blank(*w)) w++;
    if (!last) {
        if (w == s) return 0;
        pa_buf_put(out, s, (size_t)(w - s));
        return 1;
    }
    while (w < e && is_blank(*w)) w++;
    if (w == e) return 0;
    pa_buf_put(out, w, (size_t)(e - w));
    return 1;
}

static const char *const builtins[] = {"name",    "company", "industry",    "title",
                                       "website", "email",   "prospect_id", NULL};

int llm_lookup(const llm_fields_t *f, const char *p, size_t n, pa_buf_t *out)
{
    const char *rest;
    size_t rn;
    const json_t *vars = json_object_get(f->input, "variables");
    if (prefixed(p, n, "sender.", &rest, &rn))
        return value_text(json_object_getn(f->sender, rest, rn), out);
    if (prefixed(p, n, "variables.", &rest, &rn))
        return value_text(json_object_getn(vars, rest, rn), out);
    if (prefixed(p, n, "enrich.", &rest, &rn)) return value_text(walk(f->enrich, rest, rn), out);
    if (value_text(json_object_getn(vars, p, n), out)) return 1;
    if (eq(p, n, "first_name") || eq(p, n, "last_name")) {
        if (value_text(json_object_getn(f->input, p, n), out)) return 1;
        return name_part(f->input, p[0] == 'l', out);
    }
    for (int i = 0; builtins[i]; i++)
        if (eq(p, n, builtins[i])) return value_text(json_object_getn(f->input, p, n), out);
    return value_text(walk(f->enrich, p, n), out);
}

/* ---- rendering ---------------------------------------------------------------------------- */

static int path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static size_t count_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xc0) != 0x80;
    return k;
}

int llm_render(const char *tmpl, size_t len, const llm_fields_t *f, pa_buf_t *out, char *err,
               size_t errlen)
{
    if (!tmpl || len == 0) {
        set_err(err, errlen, "template: empty");
        return -1;
    }
    size_t chars = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = u8_dec((const unsigned char *)tmpl + i, len - i, &cp);
        if (!k || cp == 0) {
            set_err(err, errlen, "template: not valid UTF-8 (byte %zu)", i);
            return -1;
        }
        i += k;
        chars++;
    }
    if (chars > LLM_TEMPLATE_MAX_CHARS) {
        set_err(err, errlen, "template: %zu characters, at most %d", chars, LLM_TEMPLATE_MAX_CHARS);
        return -1;
    }
    pa_buf_t val = PA_BUF_INIT;
    int rc = 0;
    size_t base = out->len;
    const char *p = tmpl, *end = tmpl + len;
    while (p < end) {
        const char *open = NULL;
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '{' && q[1] == '{') {
                open = q;
                break;
            }
        const char *lit_end = open ? open : end;
        if (out->len - base + (size_t)(lit_end - p) <= RENDER_MAX_BYTES)
            pa_buf_put(out, p, (size_t)(lit_end - p));
        if (!open) break;
        const char *in = open + 2, *close = NULL;
        for (const char *q = in; q + 1 < end; q++) {
            if (q[0] == '{' && q[1] == '{') {
                set_err(err, errlen,
                        "template: placeholders do not nest ({{ inside {{ at character %zu)",
                        count_chars(tmpl, (size_t)(open - tmpl)) + 1);
                rc = -1;
                goto done;
            }
            if (q[0] == '}' && q[1] == '}') {
                close = q;
                break;
            }
        }
        if (!close) {
            set_err(err, errlen, "template: unclosed {{ at character %zu",
                    count_chars(tmpl, (size_t)(open - tmpl)) + 1);
            rc = -1;
            goto done;
        }
        const char *bar = memchr(in, '|', (size_t)(close - in));
        const char *ns = in, *ne = bar ? bar : close;
        while (ns < ne && is_blank(*ns)) ns++;
        while (ne > ns && is_blank(ne[-1])) ne--;
        size_t nl = (size_t)(ne - ns);
        int ok = nl >= 1 && nl <= LLM_PATH_MAX && ns[0] != '.' && ne[-1] != '.';
        for (size_t i = 0; i < nl && ok; i++) ok = path_char(ns[i]);
        if (!ok) {
            set_err(err, errlen,
                    "template: bad placeholder {{%.*s}} (expected a name such as {{first_name}})",
                    (int)((close - in) > 60 ? 60 : (close - in)), in);
            rc = -1;
            goto done;
        }
        pa_buf_reset(&val);
        if (!llm_lookup(f, ns, nl, &val)) {
            if (!bar) {
                set_err(err, errlen,
                        "template: no value for {{%.*s}} and no default (write {{%.*s|...}})",
                        (int)nl, ns, (int)nl, ns);
                rc = -1;
                goto done;
            }
            const char *ds = bar + 1, *de = close;
            while (ds < de && is_blank(*ds)) ds++;
            while (de > ds && is_blank(de[-1])) de--;
            pa_buf_put(&val, ds, (size_t)(de - ds));
        }
        if (out->len - base + val.len <= RENDER_MAX_BYTES)
            pa_buf_put(out, val.data ? val.data : "", val.len);
        p = close + 2;
    }
done:
    pa_buf_free(&val);
    if (rc < 0) truncate_to(out, base);
    return rc;
}

/* ---- guardrails --------------------------------------------------------------------------- */

/* Format characters that have no place in a plain-text message. */
static int invisible(uint32_t cp)
{
    return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff || cp == 0x00ad;
}

int llm_guard(const char *text, size_t len, size_t max_chars, pa_buf_t *out, char *err,
              size_t errlen)
{
    pa_buf_reset(out);
    pa_buf_reserve(out, len + 1);
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = u8_dec(s + i, len - i, &cp);
        if (!k) { /* invalid byte: dropped */
            i++;
            continue;
        }
        if (cp == '\r') {
            pa_buf_putc(out, '\n');
            if (i + 1 < len && s[i + 1] == '\n') i++;
        } else if (cp == '\t') {
            pa_buf_putc(out, ' ');
        } else if (cp == 0x2028 || cp == 0x2029) {
            pa_buf_putc(out, '\n');
        } else if (cp == '\n' ||
                   (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f) && !invisible(cp))) {
            pa_buf_put(out, s + i, k);
        }
        i += k;
    }
    /* trim */
    size_t a = 0, b = out->len;
    while (a < b && is_blank(out->data[a])) a++;
    while (b > a && is_blank(out->data[b - 1])) b--;
    if (a > 0) memmove(out->data, out->data + a, b - a);
    out->len = b - a;
    out->data[out->len] = '\0';
    if (out->len == 0) {
        set_err(err, errlen, "the message is empty");
        return -1;
    }
    const char *o = strstr(out->data, "{{");
    const char *c = o ? strstr(o + 2, "}}") : NULL;
    if (c) {
        size_t n = (size_t)(c - o) + 2;
        set_err(err, errlen, "the message has an unfilled placeholder %.*s%s",
                (int)(n > 60 ? 60 : n), o, n > 60 ? "..." : "");
        return -1;
    }
    /* length: at most max_chars code points, cut at the last blank before the limit */
    size_t chars = 0, cut = out->len;
    for (size_t i = 0; i < out->len; i++) {
        if (((unsigned char)out->data[i] & 0xc0) == 0x80) continue;
        if (max_chars && chars == max_chars) {
            cut = i;
            break;
        }
        chars++;
    }
    if (cut < out->len) {
        size_t at = cut;
        if (!is_blank(out->data[cut])) {
            size_t j = cut;
            while (j > 0 && !is_blank(out->data[j - 1])) j--;
            if (j > 0) at = j; /* else one word longer than the limit: cut inside it */
        }
        while (at > 0 && is_blank(out->data[at - 1])) at--;
        if (at == 0) at = cut;
        out->len = at;
        out->data[at] = '\0';
    }
    return 0;
}

int llm_compose_template(const char *tmpl, size_t len, const llm_fields_t *f, size_t max_chars,
                         pa_buf_t *out, char *err, size_t errlen)
{
    pa_buf_t raw = PA_BUF_INIT;
    int rc = llm_render(tmpl, len, f, &raw, err, errlen);
    if (rc == 0) rc = llm_guard(raw.data ? raw.data : "", raw.len, max_chars, out, err, errlen);
    pa_buf_free(&raw);
    return rc;
}
