/* /api/suppressions: the sets pa:suppress:domains and pa:suppress:emails (what the form worker
 * checks), their metadata (pa:suppress:meta) and the listing's index (pa:suppress:index, a sorted
 * set of "<kind>:<value>" read in byte order, so that a page's cursor is its last member), all
 * written together by gateway/lua/suppress_add.lua and suppress_del.lua.
 *
 * Adding takes JSON ({"domains": [...], "emails": [...], "reason"?} or {"value", "kind"?,
 * "reason"?}) or CSV (a value a line, optional header "value[,kind][,reason]"), bounded like an
 * import (IMPORT_MAX_BYTES, IMPORT_MAX_ROWS), written in pipelined batches; a value that cannot be
 * normalised is rejected by itself, with its line or index and why. */
#include "gw_suppressions_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_import.h"
#include "gw_suppress.h"
#include "gw_valid.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_time.h"
#include "pa_utf8.h"

#define BATCH 512               /* values per script call */
#define MAX_REJECTS_LISTED 1000 /* rejections listed in an answer (all are counted) */
#define REASON_MAX 500          /* characters of a reason */
#define CURSOR_MAX (GW_SUPPRESS_VALUE_MAX + 8)
#define VALUE_SHOWN 200 /* bytes of a rejected value repeated in the answer */

extern const char gw_lua_suppress_add[];
extern const char gw_lua_suppress_del[];
static pa_script_t add_script = PA_SCRIPT(gw_lua_suppress_add);
static pa_script_t del_script = PA_SCRIPT(gw_lua_suppress_del);

/* ---- adding --------------------------------------------------------------------------------- */

typedef struct {
    gw_t *gw;
    gw_req_t *r;
    char iso[25];
    /* the batch being gathered: kinds, values, metadata JSON (offsets into meta) */
    gw_sup_kind_t kind[BATCH];
    char value[BATCH][GW_SUPPRESS_VALUE_MAX];
    size_t meta_off[BATCH];
    pa_buf_t meta;
    size_t n;
    size_t added, existing;
    int unavailable;
    /* rejections, in input order: the answer's JSON objects, comma-separated */
    pa_buf_t rej;
    size_t nrej;
} adder_t;

/* Records a rejected value: by CSV line (line > 0) or by index into the JSON array field. */
static void reject(adder_t *a, size_t line, const char *field, long index, const char *value,
                   size_t vlen, const char *detail)
{
    if (a->nrej++ >= MAX_REJECTS_LISTED) return;
    if (a->rej.len) pa_buf_putc(&a->rej, ',');
    if (line) pa_buf_printf(&a->rej, "{\"line\":%zu", line);
    else pa_buf_printf(&a->rej, "{\"field\":\"%s\",\"index\":%ld", field, index);
    pa_buf_puts(&a->rej, ",\"value\":");
    if (value) {
        if (vlen > VALUE_SHOWN) vlen = VALUE_SHOWN;
        while (vlen && !pa_utf8_valid(value, vlen)) vlen--; /* not cut inside a character */
        pa_buf_json_str(&a->rej, value, vlen);
    } else {
        pa_buf_puts(&a->rej, "null");
    }
    pa_buf_puts(&a->rej, ",\"detail\":");
    pa_buf_json_str(&a->rej, detail, strlen(detail));
    pa_buf_putc(&a->rej, '}');
}

/* Writes the batch (one script call); counts what it added and what was there. */
static void flush(adder_t *a)
{
    if (!a->n || a->unavailable) {
        a->n = 0;
        a->meta.len = 0;
        return;
    }
    const char **argv = pa_calloc(1 + 3 * a->n, sizeof *argv);
    argv[0] = a->gw->cfg.prefix;
    for (size_t i = 0; i < a->n; i++) {
        argv[1 + 3 * i] = gw_sup_kind_name(a->kind[i]);
        argv[2 + 3 * i] = a->value[i];
        argv[3 + 3 * i] = a->meta.data + a->meta_off[i];
    }
    redisReply *rep =
        pa_redis_eval(gw_redis(a->gw), &add_script, 0, (int)(1 + 3 * a->n), argv, NULL);
    free(argv);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != a->n) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            pa_error("suppress_add failed", PA_S("error", rep->str));
        a->unavailable = 1;
    } else {
        for (size_t i = 0; i < rep->elements; i++) {
            if (rep->element[i]->type == REDIS_REPLY_INTEGER && rep->element[i]->integer == 1)
                a->added++;
            else a->existing++;
        }
    }
    if (rep) freeReplyObject(rep);
    a->n = 0;
    a->meta.len = 0;
}

/* Normalises one value and queues it; rejects it (by line or kind and index) when it is not
 * one. reason may be NULL. */
static void add_value(adder_t *a, gw_sup_kind_t kind, const char *s, size_t n, const char *reason,
                      size_t line, const char *field, long index)
{
    char err[200];
    int k = gw_suppress_normalize(kind, s, n, a->value[a->n], err, sizeof err);
    if (k < 0) {
        reject(a, line, field, index, s, n, err);
        return;
    }
    a->kind[a->n] = (gw_sup_kind_t)k;
    a->meta_off[a->n] = a->meta.len;
    pa_buf_printf(&a->meta, "{\"added\":\"%s\"", a->iso);
    if (reason && *reason) {
        pa_buf_puts(&a->meta, ",\"reason\":");
        pa_buf_json_str(&a->meta, reason, strlen(reason));
    }
    pa_buf_puts(&a->meta, "}");
    pa_buf_putc(&a->meta, '\0');
    if (++a->n == BATCH) flush(a);
}

/* One JSON array of values (domains or emails); -1 answered when it is not an array. */
static int add_array(adder_t *a, const json_t *arr, gw_sup_kind_t kind, const char *reason)
{
    const char *field = kind == GW_SUP_EMAIL ? "emails" : "domains";
    if (!arr || json_is_null(arr)) return 0;
    if (!json_is_array(arr)) {
        gw_valid_t v = GW_VALID(a->r);
        return gw_valid_fail(&v, field, "%s: must be an array of strings", field);
    }
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        if (a->unavailable) break;
        if (!json_is_string(x)) {
            reject(a, 0, field, (long)i, NULL, 0, "must be a string");
            continue;
        }
        add_value(a, kind, json_string_value(x), json_string_length(x), reason, 0, field, (long)i);
    }
    return 0;
}

/* The JSON body; -1 answered. */
static int add_json(adder_t *a)
{
    static const char *const fields[] = {"domains", "emails", "value", "kind", "reason", NULL};
    gw_req_t *r = a->r;
    json_t *j = gw_json_body(r);
    if (!j) return -1;
    gw_valid_t v = GW_VALID(r);
    gw_valid_object(&v, j, NULL,
                    "a JSON object {domains?, emails?, reason?} or {value, kind?, "
                    "reason?}");
    gw_valid_only(&v, j, "", fields);
    const char *reason = gw_valid_str(&v, j, "reason", "reason", 0, REASON_MAX);
    json_t *value = json_object_get(j, "value"), *kind = json_object_get(j, "kind");
    json_t *domains = json_object_get(j, "domains"), *emails = json_object_get(j, "emails");
    int rc = -1;
    if (v.failed) goto done;
    if (value && (domains || emails)) {
        gw_valid_fail(&v, "value", "value: give either value (with kind?) or domains and emails");
        goto done;
    }
    if (!value && kind) {
        gw_valid_fail(&v, "kind", "kind: goes with value (domains and emails say their kind)");
        goto done;
    }
    if (!value && !domains && !emails) {
        gw_valid_fail(&v, "domains", "domains: give domains, emails, or one value");
        goto done;
    }
    size_t rows = (json_is_array(domains) ? json_array_size(domains) : 0) +
                  (json_is_array(emails) ? json_array_size(emails) : 0);
    if (rows > (size_t)a->gw->cfg.import_max_rows) {
        gw_problem(r, 413, "payload-too-large", NULL,
                   "%zu values; at most %ld per request (IMPORT_MAX_ROWS)", rows,
                   a->gw->cfg.import_max_rows);
        goto done;
    }
    if (value) {
        int k = kind ? gw_sup_kind_parse(json_string_value(kind)) : GW_SUP_ANY;
        if (!json_is_string(kind) && kind) k = -1;
        if (k < 0 || (kind && k == GW_SUP_ANY)) {
            gw_valid_fail(&v, "kind", "kind: must be domain or email");
            goto done;
        }
        const char *s = gw_valid_str(&v, j, "value", "value", 1, GW_SUPPRESS_INPUT_MAX);
        if (!s) goto done;
        char err[200];
        int got =
            gw_suppress_normalize((gw_sup_kind_t)k, s, strlen(s), a->value[0], err, sizeof err);
        if (got < 0) {
            gw_valid_fail(&v, "value", "value: %s", err);
            goto done;
        }
        add_value(a, (gw_sup_kind_t)k, s, strlen(s), reason, 0, "value", 0);
    } else if (add_array(a, domains, GW_SUP_DOMAIN, reason) < 0 ||
               add_array(a, emails, GW_SUP_EMAIL, reason) < 0) {
        goto done;
    }
    flush(a);
    rc = 0;
done:
    json_decref(j);
    return rc;
}

enum { COL_VALUE, COL_KIND, COL_REASON, NCOLS };
static const char *const col_names[NCOLS] = {"value", "kind", "reason"};

/* The CSV header's columns into col (-1: absent); 1 when rec is a header, 0 when it is data (the
 * columns are then value, kind, reason in that order), -1 answered. */
static int csv_header(adder_t *a, const pa_buf_t *text, const gw_csv_rec_t *rec, int col[NCOLS])
{
    for (int c = 0; c < NCOLS; c++) col[c] = c;
    int header = 0;
    for (size_t f = 0; f < rec->nfields && !header; f++)
        header = rec->len[f] == 5 && strncasecmp(text->data + rec->off[f], "value", 5) == 0;
    if (!header) return 0;
    for (int c = 0; c < NCOLS; c++) col[c] = -1;
    for (size_t f = 0; f < rec->nfields; f++) {
        int known = -1;
        for (int c = 0; c < NCOLS && known < 0; c++)
            if (rec->len[f] == strlen(col_names[c]) &&
                strncasecmp(text->data + rec->off[f], col_names[c], rec->len[f]) == 0)
                known = c;
        if (known < 0 || col[known] >= 0) {
            gw_valid_t v = GW_VALID(a->r);
            const char *name = text->data + rec->off[f];
            int nl = rec->len[f] > 40 ? 40 : (int)rec->len[f];
            if (!pa_utf8_valid(name, (size_t)nl)) name = "?", nl = 1;
            gw_valid_fail(&v, "header",
                          "CSV column %zu ('%.*s') is unknown or repeated; columns are value, "
                          "kind, reason",
                          f + 1, nl, name);
            return -1;
        }
        col[known] = (int)f;
    }
    return 1;
}

/* One CSV record (line): its value, kind and reason cells. */
static void csv_row(adder_t *a, const pa_buf_t *text, const gw_csv_rec_t *rec, const int col[NCOLS],
                    size_t ncols, size_t line)
{
    const char *cell[NCOLS] = {NULL};
    size_t len[NCOLS] = {0};
    if ((ncols && rec->nfields != ncols) || (!ncols && rec->nfields > NCOLS)) {
        char msg[96];
        if (ncols) snprintf(msg, sizeof msg, "expected %zu fields, found %zu", ncols, rec->nfields);
        else
            snprintf(msg, sizeof msg, "at most 3 fields (value, kind, reason), found %zu",
                     rec->nfields);
        reject(a, line, NULL, 0, text->data + rec->off[0], rec->len[0], msg);
        return;
    }
    for (int c = 0; c < NCOLS; c++)
        if (col[c] >= 0 && (size_t)col[c] < rec->nfields) {
            cell[c] = text->data + rec->off[col[c]];
            len[c] = rec->len[col[c]];
        }
    int kind = GW_SUP_ANY;
    if (cell[COL_KIND] && len[COL_KIND]) {
        char k[16];
        snprintf(k, sizeof k, "%.*s", (int)(len[COL_KIND] < 15 ? len[COL_KIND] : 15),
                 cell[COL_KIND]);
        kind = len[COL_KIND] < 15 ? gw_sup_kind_parse(k) : -1;
        if (kind < 0) {
            reject(a, line, NULL, 0, cell[COL_VALUE], len[COL_VALUE],
                   "kind: must be domain or email");
            return;
        }
    }
    char *reason = NULL;
    if (cell[COL_REASON] && len[COL_REASON]) {
        if (!pa_utf8_valid(cell[COL_REASON], len[COL_REASON]) ||
            pa_utf8_len(cell[COL_REASON], len[COL_REASON]) > REASON_MAX) {
            reject(a, line, NULL, 0, cell[COL_VALUE], len[COL_VALUE],
                   "reason: must be UTF-8 of at most 500 characters");
            return;
        }
        reason = pa_strndup(cell[COL_REASON], len[COL_REASON]);
    }
    add_value(a, (gw_sup_kind_t)kind, cell[COL_VALUE] ? cell[COL_VALUE] : "", len[COL_VALUE],
              reason, line, NULL, 0);
    free(reason);
}

/* The CSV body; -1 answered. */
static int add_csv(adder_t *a)
{
    const char *s = a->r->body.data ? a->r->body.data : "";
    size_t n = a->r->body.len, pos = 0, lines = 0;
    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) pos = 3; /* a UTF-8 byte order mark */
    size_t rows = gw_csv_count(s, n); /* the header among them, when there is one */
    pa_buf_t text = PA_BUF_INIT;
    gw_csv_rec_t rec;
    char err[128];
    int col[NCOLS];
    size_t ncols = 0;
    int first = 1, rc = 0;
    while (!a->unavailable) {
        size_t line = lines + 1;
        int got = gw_csv_next(s, n, &pos, &text, &rec, &lines, err, sizeof err);
        if (got == 0) break;
        if (got < 0) {
            reject(a, line, NULL, 0, NULL, 0, err);
            continue;
        }
        if (rec.nfields == 1 && rec.len[0] == 0) continue; /* a blank line */
        if (first) {
            first = 0;
            int h = csv_header(a, &text, &rec, col);
            if (h < 0) {
                rc = -1;
                break;
            }
            if (rows - (size_t)h > (size_t)a->gw->cfg.import_max_rows) {
                gw_problem(a->r, 413, "payload-too-large", NULL,
                           "%zu rows; at most %ld per request (IMPORT_MAX_ROWS)", rows - (size_t)h,
                           a->gw->cfg.import_max_rows);
                rc = -1;
                break;
            }
            if (h) {
                if (col[COL_VALUE] < 0) {
                    gw_valid_t v = GW_VALID(a->r);
                    gw_valid_fail(&v, "header", "the CSV header needs a value column");
                    rc = -1;
                    break;
                }
                ncols = rec.nfields;
                continue;
            }
        }
        csv_row(a, &text, &rec, col, ncols, line);
    }
    if (rc == 0 && first) {
        gw_valid_t v = GW_VALID(a->r);
        gw_valid_fail(&v, NULL, "the CSV holds no value");
        rc = -1;
    }
    if (rc == 0) flush(a);
    pa_buf_free(&text);
    return rc;
}

void gw_h_suppressions_add(gw_t *gw, gw_req_t *r)
{
    static const char *const json_types[] = {"application/json", NULL};
    static const char *const csv_types[] = {"text/csv", NULL};
    int is_csv = gw_content_type_is(r, csv_types);
    if (!is_csv && !gw_content_type_is(r, json_types)) {
        gw_problem(r, 415, "unsupported-media-type", NULL,
                   "expected Content-Type: application/json or text/csv");
        return;
    }
    /* a JSON body is parsed whole (a tree several times its size): the JSON bound, not the
     * import's; a long list goes as CSV, read a record at a time */
    if (!is_csv && r->body.len > gw->cfg.max_body) {
        gw_problem(r, 413, "payload-too-large", NULL,
                   "a JSON body is at most %zu bytes (MAX_BODY_BYTES); send a long list as "
                   "text/csv (up to IMPORT_MAX_BYTES)",
                   gw->cfg.max_body);
        return;
    }
    adder_t *a = pa_calloc(1, sizeof *a);
    a->gw = gw;
    a->r = r;
    a->meta = (pa_buf_t)PA_BUF_INIT;
    a->rej = (pa_buf_t)PA_BUF_INIT;
    pa_time_rfc3339(pa_wall_ms(), a->iso);
    int rc = is_csv ? add_csv(a) : add_json(a);
    if (rc == 0 && a->unavailable) {
        gw_problem(r, 503, "unavailable", NULL,
                   "the data store (Redis) failed during the request: %zu value(s) were added, "
                   "%zu were there already, the rest may or may not be; sending the same request "
                   "again is safe (adding a value twice keeps one)",
                   a->added, a->existing);
        gw_header(r, "Retry-After", "1");
    } else if (rc == 0) {
        pa_buf_t b = PA_BUF_INIT;
        pa_buf_printf(&b, "{\"added\":%zu,\"existing\":%zu,\"rejected_total\":%zu,\"rejected\":[",
                      a->added, a->existing, a->nrej);
        pa_buf_put(&b, a->rej.data ? a->rej.data : "", a->rej.len);
        pa_buf_puts(&b, "]}");
        gw_reply_buf(r, a->added ? 201 : 200, &b);
        pa_info("suppressions added", PA_S("request_id", r->request_id), PA_I("added", a->added),
                PA_I("existing", a->existing), PA_I("rejected", a->nrej));
    }
    pa_buf_free(&a->meta);
    pa_buf_free(&a->rej);
    free(a);
}

/* ---- listing -------------------------------------------------------------------------------- */

/* The listing's range of kind (GW_SUP_ANY: both) as ZRANGE BYLEX bounds, from after cursor. */
static void lex_range(int kind, const char *cursor, pa_buf_t *min, pa_buf_t *max)
{
    if (cursor) {
        pa_buf_putc(min, '(');
        pa_buf_puts(min, cursor);
    } else if (kind == GW_SUP_ANY) {
        pa_buf_putc(min, '-');
    } else {
        pa_buf_printf(min, "[%s:", gw_sup_kind_name(kind));
    }
    if (kind == GW_SUP_ANY) pa_buf_putc(max, '+');
    else pa_buf_printf(max, "(%s;", gw_sup_kind_name(kind)); /* ';' follows ':' */
    pa_buf_putc(min, '\0');
    pa_buf_putc(max, '\0');
}

/* One item from its index member "<kind>:<value>" and metadata JSON (NULL: none). */
static void render_item(pa_buf_t *b, const char *member, const char *meta)
{
    const char *colon = strchr(member, ':');
    size_t kl = colon ? (size_t)(colon - member) : 0;
    const char *value = colon ? colon + 1 : member;
    json_t *m = meta ? json_loads(meta, 0, NULL) : NULL;
    const char *added = json_string_value(json_object_get(m, "added"));
    const char *reason = json_string_value(json_object_get(m, "reason"));
    pa_buf_puts(b, "{\"kind\":");
    pa_buf_json_str(b, member, kl);
    pa_buf_puts(b, ",\"value\":");
    pa_buf_json_str(b, value, strlen(value));
    pa_buf_puts(b, ",\"added\":");
    if (added) pa_buf_json_str(b, added, strlen(added));
    else pa_buf_puts(b, "null");
    if (reason) {
        pa_buf_puts(b, ",\"reason\":");
        pa_buf_json_str(b, reason, strlen(reason));
    }
    pa_buf_putc(b, '}');
    json_decref(m);
}

/* kind, limit and cursor; -1 answered. */
static int list_query(gw_req_t *r, int *kind, size_t *limit, const char **cursor)
{
    static const char *const known[] = {"kind", "limit", "cursor", NULL};
    gw_valid_t v = GW_VALID(r);
    const char *bad = gw_arg_unknown(r, known);
    if (bad)
        return gw_valid_fail(&v, bad, "%.64s: unknown query parameter (kind, limit, cursor)", bad);
    *kind = gw_sup_kind_parse(gw_arg(r, "kind"));
    if (*kind < 0) return gw_valid_fail(&v, "kind", "kind: must be domain or email");
    if (gw_valid_limit(&v, gw_arg(r, "limit"), 100, 1000, limit) < 0) return -1;
    *cursor = gw_arg(r, "cursor");
    if (*cursor && !**cursor) *cursor = NULL;
    if (!*cursor) return 0;
    size_t cl = strlen(*cursor);
    int ck = strncmp(*cursor, "domain:", 7) == 0  ? GW_SUP_DOMAIN
             : strncmp(*cursor, "email:", 6) == 0 ? GW_SUP_EMAIL
                                                  : -1;
    if (ck < 0 || cl > CURSOR_MAX || (*kind != GW_SUP_ANY && ck != *kind) ||
        !pa_utf8_valid(*cursor, cl))
        return gw_valid_fail(&v, "cursor", "cursor: not a cursor from this API (for this kind)");
    return 0;
}

void gw_h_suppressions_list(gw_t *gw, gw_req_t *r)
{
    int kind = GW_SUP_ANY;
    size_t limit = 0;
    const char *cursor = NULL;
    if (list_query(r, &kind, &limit, &cursor) < 0) return;
    pa_redis_t *rd = gw_redis(gw);
    char index[PA_KEY_MAX], meta[PA_KEY_MAX], lim[24];
    pa_key_suppress(index, gw->cfg.prefix, "index");
    pa_key_suppress(meta, gw->cfg.prefix, "meta");
    snprintf(lim, sizeof lim, "%zu", limit + 1);
    pa_buf_t min = PA_BUF_INIT, max = PA_BUF_INIT, all = PA_BUF_INIT, allmax = PA_BUF_INIT;
    lex_range(kind, cursor, &min, &max);
    lex_range(kind, NULL, &all, &allmax);
    const char *zr[] = {"ZRANGE", index, min.data, max.data, "BYLEX", "LIMIT", "0", lim};
    const char *zc[] = {"ZLEXCOUNT", index, all.data, allmax.data};
    pa_redis_append(rd, 8, zr, NULL);
    pa_redis_append(rd, 4, zc, NULL);
    redisReply *page = pa_redis_get_reply(rd);
    redisReply *total = page ? pa_redis_get_reply(rd) : NULL;
    pa_buf_free(&min);
    pa_buf_free(&max);
    pa_buf_free(&all);
    pa_buf_free(&allmax);
    redisReply *metas = NULL;
    int ok = page && total && page->type == REDIS_REPLY_ARRAY && total->type == REDIS_REPLY_INTEGER;
    size_t shown = ok ? (page->elements > limit ? limit : page->elements) : 0;
    if (ok && shown) {
        const char **av = pa_calloc(shown + 2, sizeof *av);
        av[0] = "HMGET";
        av[1] = meta;
        for (size_t i = 0; i < shown; i++) av[2 + i] = page->element[i]->str;
        metas = pa_redis_argv(rd, (int)shown + 2, av, NULL);
        free(av);
        ok = metas && metas->type == REDIS_REPLY_ARRAY && metas->elements == shown;
    }
    if (!ok) {
        if (page && page->type == REDIS_REPLY_ERROR)
            pa_error("suppressions list failed", PA_S("error", page->str));
        if (page) freeReplyObject(page);
        if (total) freeReplyObject(total);
        if (metas) freeReplyObject(metas);
        gw_unavailable(r);
        return;
    }
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "{\"items\":[");
    for (size_t i = 0; i < shown; i++) {
        if (i) pa_buf_putc(&b, ',');
        render_item(&b, page->element[i]->str, metas->element[i]->str);
    }
    int more = page->elements > limit;
    const char *last = more ? page->element[shown - 1]->str : NULL;
    pa_buf_printf(&b, "],\"total\":%lld,\"next_cursor\":", total->integer);
    if (last) pa_buf_json_str(&b, last, strlen(last));
    else pa_buf_puts(&b, "null");
    pa_buf_putc(&b, '}');
    pa_buf_t link = PA_BUF_INIT;
    if (last) {
        pa_buf_puts(&link, "</api/suppressions?");
        if (kind != GW_SUP_ANY) pa_buf_printf(&link, "kind=%s&", gw_sup_kind_name(kind));
        pa_buf_printf(&link, "limit=%zu&cursor=", limit);
        gw_url_encode(&link, last);
        pa_buf_puts(&link, ">; rel=\"next\"");
        pa_buf_putc(&link, '\0');
    }
    char tc[24];
    snprintf(tc, sizeof tc, "%lld", total->integer);
    freeReplyObject(page);
    freeReplyObject(total);
    if (metas) freeReplyObject(metas);
    gw_reply_buf(r, 200, &b);
    gw_header(r, "X-Total-Count", tc);
    if (link.len) gw_header(r, "Link", link.data);
    pa_buf_free(&link);
}

/* ---- removing ------------------------------------------------------------------------------- */

/* Removes the value s of kind (GW_SUP_ANY: inferred): 204, 404 when absent, 400 when it is not a
 * value; field names what held it. */
static void remove_value(gw_t *gw, gw_req_t *r, int kind, const char *s, const char *field)
{
    gw_valid_t v = GW_VALID(r);
    char value[GW_SUPPRESS_VALUE_MAX], err[200];
    int k = gw_suppress_normalize((gw_sup_kind_t)kind, s, strlen(s), value, err, sizeof err);
    if (k < 0) {
        gw_valid_fail(&v, field, "%s: %s", field, err);
        return;
    }
    const char *argv[] = {gw->cfg.prefix, gw_sup_kind_name((gw_sup_kind_t)k), value};
    redisReply *rep = pa_redis_eval(gw_redis(gw), &del_script, 0, 3, argv, NULL);
    if (!rep || rep->type != REDIS_REPLY_INTEGER) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            pa_error("suppress_del failed", PA_S("error", rep->str));
        if (rep) freeReplyObject(rep);
        gw_unavailable(r);
        return;
    }
    int removed = rep->integer == 1;
    freeReplyObject(rep);
    if (removed) {
        gw_reply(r, 204, NULL, NULL, 0);
        pa_info("suppression removed", PA_S("request_id", r->request_id),
                PA_S("kind", gw_sup_kind_name((gw_sup_kind_t)k)), PA_S("value", value));
    } else {
        gw_problem(r, 404, "not-found", NULL, "no %s suppression %s",
                   gw_sup_kind_name((gw_sup_kind_t)k), value);
    }
}

void gw_h_suppressions_delete(gw_t *gw, gw_req_t *r)
{
    static const char *const known[] = {"value", "kind", NULL};
    gw_valid_t v = GW_VALID(r);
    const char *bad = gw_arg_unknown(r, known);
    if (bad) {
        gw_valid_fail(&v, bad, "%.64s: unknown query parameter (value, kind)", bad);
        return;
    }
    int kind = gw_sup_kind_parse(gw_arg(r, "kind"));
    if (kind < 0) {
        gw_valid_fail(&v, "kind", "kind: must be domain or email");
        return;
    }
    const char *value = gw_arg(r, "value");
    if (!value || !*value) {
        gw_valid_fail(&v, "value",
                      "value: is required (DELETE /api/suppressions?value=acme.example)");
        return;
    }
    remove_value(gw, r, kind, value, "value");
}

void gw_h_suppression_delete(gw_t *gw, gw_req_t *r)
{
    static const char *const known[] = {"kind", NULL};
    gw_valid_t v = GW_VALID(r);
    const char *bad = gw_arg_unknown(r, known);
    if (bad) {
        gw_valid_fail(&v, bad, "%.64s: unknown query parameter (kind)", bad);
        return;
    }
    int kind = gw_sup_kind_parse(gw_arg(r, "kind"));
    if (kind < 0) {
        gw_valid_fail(&v, "kind", "kind: must be domain or email");
        return;
    }
    /* the segment as sent (decoded): an address's '@' is no id character, so r->id may not
     * hold it */
    static const char base[] = "/api/suppressions/";
    char value[GW_SUPPRESS_INPUT_MAX + 2]; /* one byte more than a value may have: too long */
    const char *seg = r->path;
    if (strncmp(seg, base, sizeof base - 1) == 0) seg += sizeof base - 1;
    size_t n = strcspn(seg, "/");
    if (n > sizeof value - 1) n = sizeof value - 1;
    memcpy(value, seg, n);
    value[n] = '\0';
    remove_value(gw, r, kind, value, "value");
}
