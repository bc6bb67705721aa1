/* POST /api/prospects/import: NDJSON or CSV, parsed and written in pipelined batches so
 * memory stays bounded whatever the size of the import.
 *
 * A retry of an import is safe: every row is an upsert, by its id, else by its email, else by an
 * id derived from the import's content (SHA-256 of the body) and the row's line, with the time of
 * the first try of that body (pa:import:<sha256>, kept 24 h) as the id's time part. So when Redis
 * fails in the middle, the 503 says which lines were written, which may or may not have been (a
 * pipelined write whose answer was lost) and from which line on nothing was, and sending the same
 * import again writes each row once. */
#include "gw_import_api.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_import.h"
#include "gw_prospect.h"
#include "gw_store.h"
#include "gw_valid.h"
#include "pa_id.h"
#include "pa_keys.h"
#include "pa_log.h"
#include "pa_time.h"
#include "pa_utf8.h"

#define BATCH 512
#define MAX_REJECTS_LISTED 1000
#define FIRST_SEEN_TTL_S 86400 /* how long a retry of the same body gets the same derived ids */

typedef struct {
    gw_t *gw;
    gw_req_t *r;
    json_t *obj[BATCH];
    gw_prospect_in_t in[BATCH];
    size_t line[BATCH];
    size_t n;
    size_t imported, updated;
    int unavailable;
    /* derived ids (rows with neither id nor email): the body's digest, its first try's time */
    uint8_t digest[32];
    uint64_t first_ms;
    char ids[BATCH][PA_ID_LEN + 3];
    /* when Redis failed: the lines whose write is unknown, the last line read */
    size_t *unknown, nunknown, capunknown;
    size_t last_line;
    /* rejected rows, found in batch order; listed in line order at the end */
    struct rejection {
        size_t line, msg; /* msg: offset into msgs */
    } * rej;
    size_t nrej, caprej;
    pa_buf_t msgs;
} import_t;

static void reject(import_t *im, size_t line, const char *msg)
{
    if (im->nrej == im->caprej) {
        im->caprej = im->caprej ? im->caprej * 2 : 64;
        im->rej = pa_realloc(im->rej, im->caprej * sizeof *im->rej);
    }
    im->rej[im->nrej].line = line;
    im->rej[im->nrej++].msg = im->msgs.len;
    pa_buf_put(&im->msgs, msg, strlen(msg) + 1);
}

static int cmp_rejection(const void *a, const void *b)
{
    size_t x = ((const struct rejection *)a)->line, y = ((const struct rejection *)b)->line;
    return x < y ? -1 : x > y;
}

/* The first MAX_REJECTS_LISTED rejections by line, as a JSON array. */
static void render_rejections(import_t *im, pa_buf_t *b)
{
    if (im->nrej) qsort(im->rej, im->nrej, sizeof *im->rej, cmp_rejection);
    pa_buf_putc(b, '[');
    for (size_t i = 0; i < im->nrej && i < MAX_REJECTS_LISTED; i++) {
        const char *m = im->msgs.data + im->rej[i].msg;
        pa_buf_printf(b, "%s{\"line\":%zu,\"error\":", i ? "," : "", im->rej[i].line);
        pa_buf_json_str(b, m, strlen(m));
        pa_buf_putc(b, '}');
    }
    pa_buf_putc(b, ']');
}

static void flush(import_t *im)
{
    if (!im->n) return;
    gw_write_result_t res[BATCH];
    gw_store_put_many(im->gw->store, gw_redis(im->gw), GW_MODE_UPSERT, im->in, im->n, res, 0);
    for (size_t i = 0; i < im->n; i++) {
        char msg[160];
        switch (res[i].status) {
        case GW_W_CREATED: im->imported++; break;
        case GW_W_UPDATED: im->updated++; break;
        case GW_W_CONFLICT:
            snprintf(msg, sizeof msg, "%s: already used by prospect %s", res[i].field,
                     res[i].owner);
            reject(im, im->line[i], msg);
            break;
        case GW_W_INVALID:
            snprintf(msg, sizeof msg, "%s: is required", res[i].field);
            reject(im, im->line[i], msg);
            break;
        default: /* sent or not, its answer is lost: it may or may not be written */
            im->unavailable = 1;
            if (im->nunknown == im->capunknown) {
                im->capunknown = im->capunknown ? im->capunknown * 2 : 64;
                im->unknown = pa_realloc(im->unknown, im->capunknown * sizeof *im->unknown);
            }
            im->unknown[im->nunknown++] = im->line[i];
            break;
        }
        gw_write_result_free(&res[i]);
        json_decref(im->obj[i]);
    }
    im->n = 0;
}

/* Takes ownership of obj. */
static void add_row(import_t *im, json_t *obj, size_t line)
{
    char field[64], err[256];
    gw_prospect_in_t *in = &im->in[im->n];
    if (gw_prospect_in_from_json(obj, in, field, err, sizeof err) < 0 ||
        gw_prospect_in_validate(in, 0, field, err, sizeof err) < 0) {
        reject(im, line, err);
        json_decref(obj);
        return;
    }
    if (!in->id && in->present[GW_F_EMAIL] != 2) {
        /* no id, no email: an id from the body's digest and the line, the same at every try */
        uint8_t rnd[10];
        memcpy(rnd, im->digest, 6);
        for (int k = 0; k < 4; k++) rnd[6 + k] = (uint8_t)((uint32_t)line >> (24 - 8 * k));
        char *id = im->ids[im->n];
        memcpy(id, "p-", 2);
        pa_id_make(id + 2, im->first_ms, rnd);
        in->id = id;
        in->id_len = PA_ID_LEN + 2;
    }
    im->obj[im->n] = obj;
    im->line[im->n++] = line;
    if (im->n == BATCH) flush(im);
}

static void import_ndjson(import_t *im, const char *s, size_t n)
{
    size_t line = 0;
    for (size_t i = 0; i < n && !im->unavailable;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n;
        line++;
        im->last_line = line;
        size_t a = i, b = end;
        while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) b--;
        i = end + 1;
        if (a == b) continue;
        json_error_t e;
        json_t *obj = json_loadb(s + a, b - a, JSON_REJECT_DUPLICATES, &e);
        if (!obj) {
            char msg[256];
            snprintf(msg, sizeof msg, "invalid JSON at column %d: %s", e.column, e.text);
            reject(im, line, msg);
            continue;
        }
        add_row(im, obj, line);
    }
    flush(im);
}

/* -1 (answered) when the header row is not usable. */
static int import_csv(import_t *im, const char *s, size_t n)
{
    pa_buf_t text = PA_BUF_INIT;
    gw_csv_rec_t rec;
    char err[128];
    size_t pos = 0, lines = 0;
    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) pos = 3; /* a UTF-8 byte order mark */
    int rc = gw_csv_next(s, n, &pos, &text, &rec, &lines, err, sizeof err);
    gw_valid_t hv = GW_VALID(im->r); /* the header row */
    if (rc <= 0) {
        gw_valid_fail(&hv, "header", "the CSV needs a header row naming the fields%s%s",
                      rc < 0 ? ": " : "", rc < 0 ? err : "");
        pa_buf_free(&text);
        return -1;
    }
    size_t ncols = rec.nfields;
    char *cols[GW_CSV_MAX_FIELDS];
    for (size_t c = 0; c < ncols; c++) {
        cols[c] = pa_strndup(text.data + rec.off[c], rec.len[c]);
        int known = strcmp(cols[c], "id") == 0;
        for (int f = 0; f < GW_F_COUNT && !known; f++)
            known = strcmp(cols[c], gw_field_names[f]) == 0;
        for (size_t d = 0; d < c && known; d++) known = strcmp(cols[c], cols[d]) != 0;
        if (!known) {
            gw_valid_fail(&hv, cols[c],
                          "CSV column %zu ('%.40s') is unknown or repeated; columns are id, name, "
                          "company, status, industry, lastContactDate, email, title, website",
                          c + 1, cols[c]);
            for (size_t d = 0; d <= c; d++) free(cols[d]);
            pa_buf_free(&text);
            return -1;
        }
    }
    while (!im->unavailable) {
        size_t line = lines + 1;
        rc = gw_csv_next(s, n, &pos, &text, &rec, &lines, err, sizeof err);
        if (rc == 0) break;
        im->last_line = line;
        if (rc < 0) {
            reject(im, line, err);
            continue;
        }
        if (rec.nfields == 1 && rec.len[0] == 0) continue; /* a blank line */
        if (rec.nfields != ncols) {
            char msg[96];
            snprintf(msg, sizeof msg, "expected %zu fields, found %zu", ncols, rec.nfields);
            reject(im, line, msg);
            continue;
        }
        json_t *obj = json_object();
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = text.data + rec.off[c];
            /* UTF-8 is checked once, by pa_utf8 (the suite's one decoder); jansson need not */
            json_t *v = !rec.len[c]                       ? json_null()
                        : pa_utf8_valid(cell, rec.len[c]) ? json_stringn_nocheck(cell, rec.len[c])
                                                          : NULL;
            if (!v) { /* not UTF-8 (or a NUL byte): name the field */
                json_decref(obj);
                obj = NULL;
                char msg[96];
                snprintf(msg, sizeof msg, "%s: must be valid UTF-8", cols[c]);
                reject(im, line, msg);
                break;
            }
            /* an empty id or status cell means "not given" (a made id, the default or kept
             * status), not null */
            if ((strcmp(cols[c], "id") == 0 || strcmp(cols[c], "status") == 0) && !rec.len[c]) {
                json_decref(v);
                continue;
            }
            json_object_set_new(obj, cols[c], v);
        }
        if (obj) add_row(im, obj, line);
    }
    flush(im);
    for (size_t c = 0; c < ncols; c++) free(cols[c]);
    pa_buf_free(&text);
    return 0;
}

/* The body's SHA-256 and the time its first try was seen (set now when this is the first):
 * what the derived ids are made of. -1 when Redis does not answer (nothing was written). */
static int first_seen(import_t *im, const char *s, size_t n, int is_csv)
{
    unsigned int dl = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, is_csv ? "csv\n" : "ndjson\n", is_csv ? 4 : 7) == 1 &&
             EVP_DigestUpdate(ctx, s, n) == 1 && EVP_DigestFinal_ex(ctx, im->digest, &dl) == 1 &&
             dl == sizeof im->digest;
    EVP_MD_CTX_free(ctx);
    if (!ok) return -1;
    char hex[65], key[PA_KEY_MAX], now[24];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", im->digest[i]);
    pa_key_import(key, im->gw->cfg.prefix, hex);
    uint64_t ms = pa_wall_ms();
    snprintf(now, sizeof now, "%llu", (unsigned long long)ms);
    redisReply *rep =
        pa_redis_cmd(gw_redis(im->gw), "SET %s %s NX GET EX %d", key, now, FIRST_SEEN_TTL_S);
    if (!rep || (rep->type != REDIS_REPLY_NIL && rep->type != REDIS_REPLY_STRING)) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            pa_error("import: first-seen time", PA_S("error", rep->str));
        if (rep) freeReplyObject(rep);
        return -1;
    }
    im->first_ms = rep->type == REDIS_REPLY_STRING ? strtoull(rep->str, NULL, 10) : ms;
    freeReplyObject(rep);
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Redis failed in the middle: a 503 problem that says what was written, what may have been and
 * from where nothing was, with the counts and rejections of the rows that were settled. */
static void reply_interrupted(import_t *im)
{
    gw_req_t *r = im->r;
    qsort(im->unknown, im->nunknown, sizeof *im->unknown, cmp_size);
    size_t through = im->nunknown ? im->unknown[0] - 1 : im->last_line;
    size_t from = im->last_line + 1;
    char detail[512];
    snprintf(detail, sizeof detail,
             "Redis failed during the import: every row up to line %zu is written or rejected "
             "(%zu imported, %zu updated, %zu rejected); the %zu row(s) listed in "
             "unconfirmed_lines may or may not be written; no row from line %zu on was. Send "
             "the same import again: each row is an upsert (by id, by email, else by an id made "
             "from the import's content and line), so no row is lost or written twice",
             through, im->imported, im->updated, im->nrej, im->nunknown, from);
    size_t len;
    char *doc = gw_problem_doc(503, "unavailable", NULL, detail, r->path, r->request_id, &len);
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_put(&b, doc, len - 1); /* without its closing brace */
    free(doc);
    pa_buf_printf(&b,
                  ",\"imported\":%zu,\"updated\":%zu,\"written_through_line\":%zu,"
                  "\"unconfirmed_lines\":[",
                  im->imported, im->updated, through);
    for (size_t i = 0; i < im->nunknown; i++)
        pa_buf_printf(&b, "%s%zu", i ? "," : "", im->unknown[i]);
    pa_buf_printf(&b, "],\"not_written_from_line\":%zu,\"rejected_total\":%zu,\"rejected\":", from,
                  im->nrej);
    render_rejections(im, &b);
    pa_buf_putc(&b, '}');
    char *body = pa_buf_detach(&b, &len);
    gw_reply(r, 503, "application/problem+json", body, len);
    gw_header(r, "Retry-After", "1");
    pa_warn("import interrupted", PA_S("request_id", r->request_id), PA_I("imported", im->imported),
            PA_I("updated", im->updated), PA_I("written_through_line", (long long)through),
            PA_I("unconfirmed", (long long)im->nunknown),
            PA_I("not_written_from_line", (long long)from));
}

void gw_h_prospects_import(gw_t *gw, gw_req_t *r)
{
    static const char *const ndjson[] = {"application/x-ndjson", "application/jsonl",
                                         "application/json-lines", NULL};
    static const char *const csv[] = {"text/csv", NULL};
    int is_csv = gw_content_type_is(r, csv);
    if (!is_csv && !gw_content_type_is(r, ndjson)) {
        gw_problem(r, 415, "unsupported-media-type", NULL,
                   "expected Content-Type: application/x-ndjson or text/csv");
        return;
    }
    const char *s = r->body.data ? r->body.data : "";
    size_t n = r->body.len;
    size_t rows = is_csv ? gw_csv_count(s, n) : gw_ndjson_count(s, n);
    if (is_csv && rows) rows--; /* the header */
    if (rows > (size_t)gw->cfg.import_max_rows) {
        gw_problem(r, 413, "payload-too-large", NULL,
                   "%zu rows; at most %ld rows per import (IMPORT_MAX_ROWS)", rows,
                   gw->cfg.import_max_rows);
        return;
    }
    if (gw_store_redis_up(gw->store) != 1) {
        gw_unavailable(r);
        return;
    }
    import_t *im = pa_calloc(1, sizeof *im);
    im->gw = gw;
    im->r = r;
    int answered = 0;
    if (first_seen(im, s, n, is_csv) < 0) {
        gw_unavailable(r); /* nothing written */
        answered = 1;
    } else if (is_csv) {
        answered = import_csv(im, s, n) < 0;
    } else {
        import_ndjson(im, s, n);
    }
    if (!answered) {
        if (im->unavailable) {
            reply_interrupted(im);
        } else {
            pa_buf_t b = PA_BUF_INIT;
            pa_buf_printf(&b,
                          "{\"imported\":%zu,\"updated\":%zu,\"rejected_total\":%zu,\"rejected\":",
                          im->imported, im->updated, im->nrej);
            render_rejections(im, &b);
            pa_buf_putc(&b, '}');
            gw_reply_buf(r, 200, &b);
            pa_info("import", PA_S("request_id", r->request_id), PA_I("imported", im->imported),
                    PA_I("updated", im->updated), PA_I("rejected", im->nrej));
        }
    }
    for (size_t i = 0; i < im->n; i++) json_decref(im->obj[i]);
    free(im->rej);
    free(im->unknown);
    pa_buf_free(&im->msgs);
    free(im);
}
