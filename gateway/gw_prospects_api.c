/* /api/prospects: list with filters and cursors, create, read, merge-patch, delete. */
#include "gw_prospects_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_store.h"
#include "gw_valid.h"
#include "pa_utf8.h"

#define MAX_LIMIT 1000
#define DEFAULT_LIMIT 100
#define MAX_SET 64

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64_encode(pa_buf_t *b, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        pa_buf_putc(b, b64url[v >> 18]);
        pa_buf_putc(b, b64url[(v >> 12) & 63]);
        if (i + 1 < n) pa_buf_putc(b, b64url[(v >> 6) & 63]);
        if (i + 2 < n) pa_buf_putc(b, b64url[v & 63]);
    }
}

/* An unsorted list's cursor: the last id. A sorted one's: the id, a NUL, then 'n' (the value
 * was null) or 'v' and the value; base64url, so it travels in a URL as it is. */
static void cursor_encode(pa_buf_t *b, const char *id, const gw_query_t *q,
                          const gw_query_result_t *res)
{
    pa_buf_t raw = PA_BUF_INIT;
    pa_buf_puts(&raw, id);
    if (q->sort != GW_SORT_NONE) {
        pa_buf_putc(&raw, '\0');
        pa_buf_putc(&raw, res->last_null ? 'n' : 'v');
        pa_buf_puts(&raw, res->last_null ? "" : res->last_val);
    }
    b64_encode(b, (const unsigned char *)raw.data, raw.len);
    pa_buf_free(&raw);
}

#define CURSOR_MAX (GW_ID_MAX + 2 + GW_SORT_VAL_MAX)

/* 0 and the bytes in out (NUL-terminated, *len of them), or -1 when it is not base64url. */
static int b64_decode(const char *c, char out[CURSOR_MAX + 1], size_t *len)
{
    size_t n = strlen(c), o = 0;
    if (n == 0 || n > (CURSOR_MAX * 4 + 2) / 3 || n % 4 == 1) return -1;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64url, c[i]);
        if (!p || !c[i]) return -1;
        acc = (acc << 6) | (unsigned)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == CURSOR_MAX) return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    *len = o;
    return 0;
}

/* Splits a comma-separated parameter into trimmed items; -1 when there are too many. */
static int split_set(const char *s, char items[][128], size_t *n, size_t *bad_len)
{
    *n = 0;
    while (*s) {
        while (*s == ',' || *s == ' ') s++;
        if (!*s) break;
        const char *e = strchr(s, ',');
        if (!e) e = s + strlen(s);
        const char *t = e;
        while (t > s && t[-1] == ' ') t--;
        size_t len = (size_t)(t - s);
        if (*n == MAX_SET) return -1;
        if (len >= 128) {
            *bad_len = len;
            return -2;
        }
        memcpy(items[*n], s, len);
        items[(*n)++][len] = '\0';
        s = e;
    }
    return 0;
}

/* A list request's query: the raw parameters and the index query made of them (with the
 * case-folded search and industries it points into). */
typedef struct {
    const char *search, *industry, *status, *limit, *cursor, *sort;
    gw_query_t q;
    char after[CURSOR_MAX + 1]; /* the decoded cursor: the id, then a sorted one's value */
    pa_buf_t search_folded;
    pa_buf_t folded[MAX_SET];
    const char *inds[MAX_SET];
} list_query_t;

static void list_query_free(list_query_t *lq)
{
    for (size_t i = 0; i < lq->q.n_industries; i++) pa_buf_free(&lq->folded[i]);
    pa_buf_free(&lq->search_folded);
}

/* status=a,b: the mask of those statuses. */
static int parse_status(gw_valid_t *v, const char *status, unsigned *mask)
{
    char items[MAX_SET][128];
    size_t n = 0, badlen = 0;
    if (split_set(status, items, &n, &badlen) < 0)
        return gw_valid_fail(v, "status", "status: too many or too long values");
    for (size_t i = 0; i < n; i++) {
        int st = gw_status_index(items[i], strlen(items[i]));
        if (st < 0)
            return gw_valid_fail(v, "status",
                                 "status: '%.40s' is not one of new, researching, contacted, "
                                 "replied, qualified, disqualified",
                                 items[i]);
        *mask |= 1u << st;
    }
    return 0;
}

/* industry=a,b: the case-folded set. */
static int parse_industries(gw_valid_t *v, list_query_t *lq)
{
    char items[MAX_SET][128];
    size_t n = 0, badlen = 0;
    if (split_set(lq->industry, items, &n, &badlen) < 0 ||
        !pa_utf8_valid(lq->industry, strlen(lq->industry)))
        return gw_valid_fail(
            v, "industry",
            "industry: at most %d comma-separated values of up to 127 bytes of UTF-8", MAX_SET);
    for (size_t i = 0; i < n; i++) {
        lq->folded[i] = (pa_buf_t)PA_BUF_INIT;
        pa_utf8_fold(items[i], strlen(items[i]), &lq->folded[i]);
        lq->inds[i] = lq->folded[i].data;
    }
    lq->q.industries = lq->inds;
    lq->q.n_industries = n;
    return 0;
}

/* The query parameters into lq (list_query_free it either way); -1 answered. */
static int parse_sort(gw_valid_t *v, const char *sort, gw_query_t *q);

static int parse_list_query(gw_req_t *r, list_query_t *lq)
{
    gw_valid_t v = GW_VALID(r);
    static const char *const known[] = {"search", "industry", "status", "limit",
                                        "cursor", "sort",     NULL};
    const char *bad = gw_arg_unknown(r, known);
    if (bad)
        return gw_valid_fail(&v, bad,
                             "%.64s: unknown query parameter (known: search, industry, status, "
                             "limit, cursor, sort)",
                             bad);
    lq->search = gw_arg(r, "search"), lq->industry = gw_arg(r, "industry");
    lq->status = gw_arg(r, "status"), lq->limit = gw_arg(r, "limit");
    lq->cursor = gw_arg(r, "cursor"), lq->sort = gw_arg(r, "sort");
    if (gw_valid_limit(&v, lq->limit, DEFAULT_LIMIT, MAX_LIMIT, &lq->q.limit) < 0) return -1;
    if (lq->sort && *lq->sort && parse_sort(&v, lq->sort, &lq->q) < 0) return -1;
    if (lq->cursor && *lq->cursor) {
        size_t n, idn;
        int ok = b64_decode(lq->cursor, lq->after, &n) == 0;
        idn = ok ? strlen(lq->after) : 0;
        if (ok && lq->q.sort == GW_SORT_NONE) ok = idn == n; /* an id alone */
        else if (ok)                                         /* id NUL 'n' | id NUL 'v' value */
            ok = idn + 2 <= n &&
                 (lq->after[idn + 1] == 'v' || (lq->after[idn + 1] == 'n' && idn + 2 == n));
        if (!ok || !gw_id_valid(lq->after, idn))
            return gw_valid_fail(&v, "cursor",
                                 "cursor: not a cursor from this API for this sort; use the Link "
                                 "header of a page");
        lq->q.after_id = lq->after;
        if (lq->q.sort != GW_SORT_NONE) {
            lq->q.after_null = lq->after[idn + 1] == 'n';
            lq->q.after_val = lq->after + idn + 2;
        }
    }
    if (lq->search && *lq->search) {
        size_t n = strlen(lq->search);
        if (n > 200 || !pa_utf8_valid(lq->search, n))
            return gw_valid_fail(&v, "search", "search: must be valid UTF-8 of at most 200 bytes");
        pa_utf8_fold(lq->search, n, &lq->search_folded);
        lq->q.search = lq->search_folded.data;
        lq->q.search_len = lq->search_folded.len;
    }
    if (lq->status && *lq->status && parse_status(&v, lq->status, &lq->q.status_mask) < 0)
        return -1;
    if (lq->industry && *lq->industry && parse_industries(&v, lq) < 0) return -1;
    return 0;
}

/* sort=[-]field: name, company, status, industry, lastContactDate, id. */
static int parse_sort(gw_valid_t *v, const char *sort, gw_query_t *q)
{
    static const struct {
        const char *name;
        int sort;
    } keys[] = {{"name", GW_SORT_F(GW_F_NAME)},
                {"company", GW_SORT_F(GW_F_COMPANY)},
                {"status", GW_SORT_F(GW_F_STATUS)},
                {"industry", GW_SORT_F(GW_F_INDUSTRY)},
                {"lastContactDate", GW_SORT_F(GW_F_LASTCONTACT)},
                {"id", GW_SORT_ID}};
    int desc = sort[0] == '-';
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(sort + desc, keys[i].name) == 0) {
            /* id ascending is the default order (and its cursors) */
            q->sort = keys[i].sort == GW_SORT_ID && !desc ? GW_SORT_NONE : keys[i].sort;
            q->sort_desc = desc;
            return 0;
        }
    return gw_valid_fail(v, "sort",
                         "sort: expected one of name, company, status, industry, lastContactDate, "
                         "id, each optionally after - for descending; got '%.40s'",
                         sort);
}

/* Link: the next page, with the same filters. */
static void link_next(gw_req_t *r, const list_query_t *lq, const gw_query_result_t *res)
{
    pa_buf_t link = PA_BUF_INIT;
    pa_buf_puts(&link, "</api/prospects?");
    const char *names[] = {"search", "industry", "status", "sort"};
    const char *vals[] = {lq->search, lq->industry, lq->status, lq->sort};
    for (int i = 0; i < 4; i++) {
        if (!vals[i] || !*vals[i]) continue;
        pa_buf_printf(&link, "%s=", names[i]);
        gw_url_encode(&link, vals[i]);
        pa_buf_putc(&link, '&');
    }
    pa_buf_printf(&link, "limit=%zu&cursor=", lq->q.limit);
    cursor_encode(&link, res->last_id, &lq->q, res);
    pa_buf_puts(&link, ">; rel=\"next\"");
    gw_header(r, "Link", link.data);
    pa_buf_free(&link);
}

void gw_h_prospects_list(gw_t *gw, gw_req_t *r)
{
    list_query_t lq;
    memset(&lq.q, 0, sizeof lq.q);
    lq.search_folded = (pa_buf_t)PA_BUF_INIT;
    if (parse_list_query(r, &lq) < 0) {
        list_query_free(&lq);
        return;
    }
    if (!gw_store_loaded(gw->store)) {
        list_query_free(&lq);
        gw_unavailable(r);
        return;
    }
    pa_buf_t out = PA_BUF_INIT;
    pa_buf_reserve(&out, lq.q.limit * 320);
    gw_query_result_t res;
    gw_store_query(gw->store, &lq.q, &out, &res);
    gw_reply_buf(r, 200, &out);
    char total[32];
    snprintf(total, sizeof total, "%zu", res.total);
    gw_header(r, "X-Total-Count", total);
    if (res.more) link_next(r, &lq, &res);
    list_query_free(&lq);
}

void gw_h_prospect_get(gw_t *gw, gw_req_t *r)
{
    size_t len;
    char *json = r->id_invalid ? NULL : gw_store_get_json(gw->store, r->id, &len);
    if (!json) {
        if (!gw_store_loaded(gw->store)) gw_unavailable(r);
        else gw_problem(r, 404, "not-found", NULL, "no prospect with this id");
        return;
    }
    gw_reply(r, 200, "application/json", json, len);
}

/* Answers a write's outcome; returns 1 when it was a success the caller should answer. */
static int write_failed(gw_req_t *r, const gw_write_result_t *w)
{
    switch (w->status) {
    case GW_W_CREATED:
    case GW_W_UPDATED:
    case GW_W_DELETED: return 0;
    case GW_W_NOTFOUND: gw_problem(r, 404, "not-found", NULL, "no prospect with this id"); break;
    case GW_W_CONFLICT:
        if (strcmp(w->field, "email") == 0)
            gw_problem(r, 409, "conflict", "email", "email: already used by prospect %s", w->owner);
        else
            gw_problem(r, 409, "conflict", "id", "id: a prospect with id %s already exists",
                       w->owner);
        break;
    case GW_W_INVALID:
        gw_problem(r, 400, "invalid-field", w->field, "%s: is required", w->field);
        break;
    case GW_W_UNAVAILABLE: gw_unavailable(r); break;
    }
    return 1;
}

static void reply_written(gw_req_t *r, gw_write_result_t *w, int status)
{
    if (!w->json) { /* the script's document did not parse: should never happen */
        gw_problem(r, 500, "internal", NULL, "the stored record could not be read back");
        return;
    }
    gw_reply(r, status, "application/json", w->json, w->json_len);
    w->json = NULL;
}

/* The body of a create (creating) or merge-patch into in (borrowed from j); -1 answered. */
static int parse(gw_req_t *r, const json_t *j, int creating, gw_prospect_in_t *in)
{
    char field[64], err[256];
    gw_valid_t v = GW_VALID(r);
    if (gw_prospect_in_from_json(j, in, field, err, sizeof err) < 0 ||
        gw_prospect_in_validate(in, creating, field, err, sizeof err) < 0)
        return gw_valid_fail(&v, field[0] ? field : NULL, "%s", err);
    return 0;
}

void gw_h_prospects_create(gw_t *gw, gw_req_t *r)
{
    json_t *j = gw_json_body(r);
    if (!j) return;
    gw_prospect_in_t in;
    if (parse(r, j, 1, &in) < 0) {
        json_decref(j);
        return;
    }
    gw_write_result_t w;
    gw_store_put(gw->store, gw_redis(gw), GW_MODE_CREATE, &in, &w);
    json_decref(j);
    if (!write_failed(r, &w)) {
        reply_written(r, &w, 201);
        char loc[GW_ID_MAX + 32];
        snprintf(loc, sizeof loc, "/api/prospects/%s", w.id);
        gw_header(r, "Location", loc);
    }
    gw_write_result_free(&w);
}

void gw_h_prospect_patch(gw_t *gw, gw_req_t *r)
{
    if (r->id_invalid) {
        gw_problem(r, 404, "not-found", NULL, "no prospect with this id");
        return;
    }
    json_t *j = gw_json_body(r);
    if (!j) return;
    gw_prospect_in_t in;
    if (parse(r, j, 0, &in) < 0) {
        json_decref(j);
        return;
    }
    if (in.id && (in.id_len != strlen(r->id) || memcmp(in.id, r->id, in.id_len) != 0)) {
        gw_valid_t v = GW_VALID(r);
        gw_valid_fail(&v, "id", "id: cannot be changed");
        json_decref(j);
        return;
    }
    in.id = r->id;
    in.id_len = strlen(r->id);
    gw_write_result_t w;
    gw_store_put(gw->store, gw_redis(gw), GW_MODE_PATCH, &in, &w);
    json_decref(j);
    if (!write_failed(r, &w)) reply_written(r, &w, 200);
    gw_write_result_free(&w);
}

void gw_h_prospect_delete(gw_t *gw, gw_req_t *r)
{
    if (r->id_invalid) {
        gw_problem(r, 404, "not-found", NULL, "no prospect with this id");
        return;
    }
    gw_write_result_t w;
    gw_store_del(gw->store, gw_redis(gw), r->id, &w);
    if (!write_failed(r, &w)) gw_reply(r, 204, NULL, NULL, 0);
    gw_write_result_free(&w);
}
