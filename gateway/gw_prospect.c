/* Prospect records: validation, the immutable record and its pre-rendered JSON. */
#include "gw_prospect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_buf.h"
#include "pa_utf8.h"

const char *const gw_status_names[GW_STATUS_COUNT] = {"new",     "researching", "contacted",
                                                      "replied", "qualified",   "disqualified"};
const char *const gw_field_names[GW_F_COUNT] = {
    "name", "company", "status", "industry", "lastContactDate", "email", "title", "website"};

int gw_status_index(const char *s, size_t n)
{
    for (int i = 0; i < GW_STATUS_COUNT; i++)
        if (strlen(gw_status_names[i]) == n && memcmp(gw_status_names[i], s, n) == 0) return i;
    return -1;
}

static int field_index(const char *k)
{
    for (int i = 0; i < GW_F_COUNT; i++)
        if (strcmp(gw_field_names[i], k) == 0) return i;
    return -1;
}

/* Names the field at fault (field holds 64 bytes) and says what is wrong; returns -1. These
 * checks answer no problem themselves: the API handlers turn the message into a 400 problem
 * (gw_valid.h) and the import lists it as the row's rejection. */
__attribute__((format(printf, 5, 6))) static int fail(char *field, char *err, size_t errlen,
                                                      const char *fname, const char *fmt, ...)
{
    snprintf(field, 64, "%s", fname);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int gw_prospect_in_from_json(const json_t *obj, gw_prospect_in_t *in, char *field, char *err,
                             size_t errlen)
{
    memset(in, 0, sizeof *in);
    if (!json_is_object(obj)) return fail(field, err, errlen, "", "expected a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcmp(k, "id") == 0) {
            if (!json_is_string(v)) return fail(field, err, errlen, "id", "id: must be a string");
            in->id = json_string_value(v);
            in->id_len = json_string_length(v);
            continue;
        }
        int i = field_index(k);
        if (i < 0) return fail(field, err, errlen, k, "%.64s: unknown field", k);
        if (json_is_null(v)) {
            in->present[i] = 1;
        } else if (json_is_string(v)) {
            in->present[i] = 2;
            in->val[i] = json_string_value(v);
            in->len[i] = json_string_length(v);
        } else {
            return fail(field, err, errlen, k, "%s: must be a string or null", k);
        }
    }
    return 0;
}

static int valid_date(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return 0;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 0;
    return 1;
}

static int valid_url(const char *s, size_t n)
{
    size_t p;
    if (n > 7 && strncmp(s, "http://", 7) == 0) p = 7;
    else if (n > 8 && strncmp(s, "https://", 8) == 0) p = 8;
    else return 0;
    if (n > 2048 || s[p] == '/' || s[p] == '?' || s[p] == '#') return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == '"' || s[i] == '<' || s[i] == '>') return 0;
    return 1;
}

int gw_prospect_in_validate(const gw_prospect_in_t *in, int creating, char *field, char *err,
                            size_t errlen)
{
    if (in->id && !gw_id_valid(in->id, in->id_len))
        return fail(field, err, errlen, "id", "id: must be 1 to %d characters of A-Z a-z 0-9 . _ -",
                    GW_ID_MAX);
    for (int i = 0; i < GW_F_COUNT; i++) {
        const char *name = gw_field_names[i], *v = in->val[i];
        size_t n = in->len[i];
        if (in->present[i] == 1) {
            if (i == GW_F_NAME || i == GW_F_COMPANY || i == GW_F_STATUS)
                return fail(field, err, errlen, name, "%s: must not be null", name);
            continue;
        }
        if (in->present[i] != 2) {
            if (creating && (i == GW_F_NAME || i == GW_F_COMPANY))
                return fail(field, err, errlen, name, "%s: is required", name);
            continue;
        }
        if (!pa_utf8_valid(v, n))
            return fail(field, err, errlen, name, "%s: must be valid UTF-8 without NUL bytes",
                        name);
        size_t cps = pa_utf8_len(v, n);
        switch (i) {
        case GW_F_NAME:
        case GW_F_COMPANY:
            if (cps < 1 || cps > 200)
                return fail(field, err, errlen, name, "%s: must be 1 to 200 characters", name);
            break;
        case GW_F_TITLE:
            if (cps > 200)
                return fail(field, err, errlen, name, "%s: must be at most 200 characters", name);
            break;
        case GW_F_INDUSTRY:
            if (cps < 1 || cps > 100)
                return fail(field, err, errlen, name, "%s: must be 1 to 100 characters", name);
            break;
        case GW_F_STATUS:
            if (gw_status_index(v, n) < 0)
                return fail(field, err, errlen, name,
                            "status: must be one of new, researching, contacted, replied, "
                            "qualified, disqualified");
            break;
        case GW_F_LASTCONTACT:
            if (!valid_date(v, n))
                return fail(field, err, errlen, name,
                            "lastContactDate: must be a date as YYYY-MM-DD");
            break;
        case GW_F_EMAIL:
            if (!gw_email_valid(v, n))
                return fail(field, err, errlen, name,
                            "email: must be an address like name@example.com");
            break;
        case GW_F_WEBSITE:
            if (!valid_url(v, n))
                return fail(field, err, errlen, name,
                            "website: must be an http:// or https:// URL");
            break;
        }
    }
    return 0;
}

char *gw_prospect_in_to_json(const gw_prospect_in_t *in)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '{');
    int first = 1;
    for (int i = 0; i < GW_F_COUNT; i++) {
        if (!in->present[i]) continue;
        if (!first) pa_buf_putc(&b, ',');
        first = 0;
        pa_buf_json_str(&b, gw_field_names[i], strlen(gw_field_names[i]));
        pa_buf_putc(&b, ':');
        if (in->present[i] == 1) pa_buf_puts(&b, "null");
        else pa_buf_json_str(&b, in->val[i], in->len[i]);
    }
    pa_buf_putc(&b, '}');
    return pa_buf_detach(&b, NULL);
}

gw_prospect_t *gw_prospect_new(const char *id, const char *const vals[GW_F_COUNT])
{
    size_t idl = strlen(id);
    if (!gw_id_valid(id, idl) || !vals[GW_F_STATUS]) return NULL;
    int st = gw_status_index(vals[GW_F_STATUS], strlen(vals[GW_F_STATUS]));
    if (st < 0 || !vals[GW_F_NAME] || !vals[GW_F_COMPANY]) return NULL;

    pa_buf_t json = PA_BUF_INIT, hay = PA_BUF_INIT, ik = PA_BUF_INIT;
    pa_buf_puts(&json, "{\"id\":");
    pa_buf_json_str(&json, id, idl);
    for (int i = 0; i < GW_F_COUNT; i++) {
        pa_buf_putc(&json, ',');
        pa_buf_json_str(&json, gw_field_names[i], strlen(gw_field_names[i]));
        pa_buf_putc(&json, ':');
        if (vals[i]) pa_buf_json_str(&json, vals[i], strlen(vals[i]));
        else pa_buf_puts(&json, "null");
    }
    pa_buf_putc(&json, '}');
    const int hay_fields[] = {GW_F_NAME, GW_F_COMPANY, GW_F_EMAIL};
    for (int k = 0; k < 3; k++) {
        const char *v = vals[hay_fields[k]];
        if (k) pa_buf_putc(&hay, '\n');
        if (v) pa_utf8_fold(v, strlen(v), &hay);
    }
    if (vals[GW_F_INDUSTRY]) pa_utf8_fold(vals[GW_F_INDUSTRY], strlen(vals[GW_F_INDUSTRY]), &ik);

    size_t total = sizeof(gw_prospect_t) + idl + 1 + json.len + 1 + hay.len + 1 + ik.len + 1;
    for (int i = 0; i < GW_F_COUNT; i++)
        if (vals[i]) total += strlen(vals[i]) + 1;
    gw_prospect_t *p = pa_calloc(1, total);
    char *w = (char *)(p + 1);
#define COPY(dst, src, n)                                                                          \
    do {                                                                                           \
        memcpy(w, (src), (n));                                                                     \
        w[(n)] = '\0';                                                                             \
        (dst) = w;                                                                                 \
        w += (n) + 1;                                                                              \
    } while (0)
    COPY(p->id, id, idl);
    for (int i = 0; i < GW_F_COUNT; i++)
        if (vals[i]) COPY(p->f[i], vals[i], strlen(vals[i]));
    COPY(p->json, json.data, json.len);
    p->json_len = (uint32_t)json.len;
    COPY(p->hay, hay.data ? hay.data : "", hay.len);
    p->hay_len = (uint32_t)hay.len;
    if (ik.len) COPY(p->industry_key, ik.data, ik.len);
#undef COPY
    p->status = (uint8_t)st;
    pa_buf_free(&json);
    pa_buf_free(&hay);
    pa_buf_free(&ik);
    return p;
}

gw_prospect_t *gw_prospect_from_doc(const json_t *doc)
{
    json_t *jid = json_object_get(doc, "id");
    if (!json_is_string(jid)) return NULL;
    const char *vals[GW_F_COUNT] = {0};
    for (int i = 0; i < GW_F_COUNT; i++) {
        json_t *v = json_object_get(doc, gw_field_names[i]);
        if (json_is_string(v)) vals[i] = json_string_value(v);
    }
    return gw_prospect_new(json_string_value(jid), vals);
}
