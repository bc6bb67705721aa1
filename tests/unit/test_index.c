/* gw_index: a randomized differential test against a brute-force model (search, industry and
 * status filters, limits, cursor walking, totals), plus deletes and re-puts, compaction, get and
 * swap_in. The model keeps every record's fields and its own folded "name\ncompany\nemail";
 * each query's expected page is computed by scanning the whole model in id order.
 * PA_INDEX_SEED=<n> in the environment replays another seed. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_index.h"
#include "gw_prospect.h"
#include "pa_buf.h"
#include "pa_utf8.h"

/* ---- deterministic random numbers ---- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static size_t rnd(size_t n) /* 0..n-1 */
{
    return n ? (size_t)(rnd64() % n) : 0;
}

static int chance(unsigned pct)
{
    return rnd(100) < pct;
}

static uint64_t seed_rng(uint64_t dflt)
{
    const char *e = getenv("PA_INDEX_SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 10) : dflt;
    rng_state = seed ? seed : 1;
    return seed;
}

/* ---- test data vocabulary: ASCII and non-ASCII, mixed case ---- */

static const char *const FIRST[] = {"Zoe",   "Müller",  "ÉMILE", "Σοφία", "ΣΟΦΙΑ",   "Łukasz",
                                    "Ørjan", "Ana",     "JOSÉ",  "Björn", "Chloé",   "Noah",
                                    "Li",    "Дмитрий", "İlker", "Ærø",   "STRASSE", "Straße"};
static const char *const LAST[] = {"Bianchi", "MÜLLER",  "Dubois", "Παπαδόπουλος", "Nakamura",
                                   "García",  "O'Brien", "Smith",  "Ångström",     "Kowalski",
                                   "Øster",   "Иванова", "東京",   "ÉLISE",        "Van Dijk"};
static const char *const WORD[] = {
    "Blue",   "Learning", "Tidal", "Nordic", "Ελληνική", "Société", "Générale", "Acme", "Data",
    "Straße", "Works",    "ÜBER",  "Café",   "Global",   "Systems", "ÉNERGIE",  "Ωmega"};
static const char *const SUFFIX[] = {"SA", "GmbH", "Ltd", "AG", "Inc", "ΑΕ", "S.à r.l.", "Oy"};
static const char *const ASCII_NAME[] = {"zoe",  "Mueller", "EMILE", "sofia", "lukasz", "ana",
                                         "Jose", "bjorn",   "chloe", "NOAH",  "li",     "dmitri"};
static const char *const DOMAIN[] = {"example.com", "Blue-Learning.EXAMPLE", "acme.example",
                                     "société.example", "tidal.example"};
/* Raw industry values; several fold to the same key. */
static const char *const INDUSTRY[] = {"Logistics",     "SaaS",      "SAAS",      "Fintech",
                                       "Health Care",   "Énergie",   "ÉNERGIE",   "Retail",
                                       "Manufacturing", "Éducation", "éducation", "logistics"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the model ---- */

typedef struct {
    char id[GW_ID_MAX + 1];
    int alive;
    int inserted; /* ever put */
    char *vals[GW_F_COUNT];
    char *hay; /* folded "name\ncompany\nemail" */
    size_t hay_len;
    char *ikey; /* folded industry or NULL */
    int status;
} mrec_t;

typedef struct {
    mrec_t *r; /* sorted by id (strcmp) */
    size_t n;
    gw_index_t *ix;
    size_t nalive;
    char *ikeys[NELEM(INDUSTRY)]; /* the distinct folded industry keys */
    size_t nikeys;
    uint64_t seed;
    size_t queries, pages;
} model_t;

static char *fold_str(const char *s, size_t n)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_utf8_fold(s, n, &b);
    return pa_buf_detach(&b, NULL);
}

static void mrec_clear(mrec_t *m)
{
    for (int i = 0; i < GW_F_COUNT; i++) {
        free(m->vals[i]);
        m->vals[i] = NULL;
    }
    free(m->hay);
    free(m->ikey);
    m->hay = m->ikey = NULL;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return pa_strdup(tmp);
}

/* Gives m new random values and recomputes its folded search text and industry key. */
static void mrec_randomize(mrec_t *m)
{
    mrec_clear(m);
    m->status = (int)rnd(GW_STATUS_COUNT);
    m->vals[GW_F_NAME] = xprintf("%s %s", FIRST[rnd(NELEM(FIRST))], LAST[rnd(NELEM(LAST))]);
    if (chance(30))
        m->vals[GW_F_COMPANY] =
            xprintf("%s %s %s %zu", WORD[rnd(NELEM(WORD))], WORD[rnd(NELEM(WORD))],
                    SUFFIX[rnd(NELEM(SUFFIX))], rnd(2000));
    else
        m->vals[GW_F_COMPANY] =
            xprintf("%s %s", WORD[rnd(NELEM(WORD))], SUFFIX[rnd(NELEM(SUFFIX))]);
    m->vals[GW_F_STATUS] = xprintf("%s", gw_status_names[m->status]);
    if (!chance(20)) m->vals[GW_F_INDUSTRY] = xprintf("%s", INDUSTRY[rnd(NELEM(INDUSTRY))]);
    if (chance(50))
        m->vals[GW_F_LASTCONTACT] = xprintf("2024-%02zu-%02zu", 1 + rnd(12), 1 + rnd(28));
    if (!chance(10))
        m->vals[GW_F_EMAIL] =
            xprintf("%s.%s%zu@%s", ASCII_NAME[rnd(NELEM(ASCII_NAME))],
                    ASCII_NAME[rnd(NELEM(ASCII_NAME))], rnd(10000), DOMAIN[rnd(NELEM(DOMAIN))]);
    if (chance(40)) m->vals[GW_F_TITLE] = xprintf("%s", chance(50) ? "CTO" : "Directrice générale");
    if (chance(30)) m->vals[GW_F_WEBSITE] = xprintf("https://%s/", DOMAIN[rnd(NELEM(DOMAIN))]);
    pa_buf_t raw = PA_BUF_INIT;
    pa_buf_puts(&raw, m->vals[GW_F_NAME]);
    pa_buf_putc(&raw, '\n');
    pa_buf_puts(&raw, m->vals[GW_F_COMPANY]);
    pa_buf_putc(&raw, '\n');
    if (m->vals[GW_F_EMAIL]) pa_buf_puts(&raw, m->vals[GW_F_EMAIL]);
    pa_buf_t f = PA_BUF_INIT;
    pa_utf8_fold(raw.data, raw.len, &f);
    m->hay_len = f.len;
    m->hay = pa_buf_detach(&f, NULL);
    pa_buf_free(&raw);
    if (m->vals[GW_F_INDUSTRY])
        m->ikey = fold_str(m->vals[GW_F_INDUSTRY], strlen(m->vals[GW_F_INDUSTRY]));
}

static gw_prospect_t *mrec_record(const mrec_t *m)
{
    const char *vals[GW_F_COUNT];
    for (int i = 0; i < GW_F_COUNT; i++) vals[i] = m->vals[i];
    gw_prospect_t *p = gw_prospect_new(m->id, vals);
    cr_assert_not_null(p, "gw_prospect_new(%s) failed", m->id);
    return p;
}

static void model_put(model_t *md, size_t k)
{
    mrec_t *m = &md->r[k];
    mrec_randomize(m);
    gw_index_put(md->ix, mrec_record(m));
    if (!m->alive) md->nalive++;
    m->alive = m->inserted = 1;
}

static void model_del(model_t *md, size_t k)
{
    mrec_t *m = &md->r[k];
    int rc = gw_index_del(md->ix, m->id);
    cr_assert_eq(rc, m->alive ? 0 : -1, "seed %llu: gw_index_del(%s) = %d with the record %s",
                 (unsigned long long)md->seed, m->id, rc, m->alive ? "present" : "absent");
    if (m->alive) md->nalive--;
    m->alive = 0;
}

static int cmp_mrec(const void *a, const void *b)
{
    return strcmp(((const mrec_t *)a)->id, ((const mrec_t *)b)->id);
}

/* n ids "p-%06d" plus a few of other shapes (ordering is plain byte order). */
static void model_init(model_t *md, size_t n, uint64_t seed)
{
    static const char *const odd[] = {
        "x",  "X-1", "p-00001",  "p-000001a", "0",        "_", "a.b_c-D9",  "P-000010",
        "p-", "p-1", "zzzzzzzz", "p-0000000", "p.000002", "Z", "p-000002-", "(max)"};
    memset(md, 0, sizeof *md);
    md->seed = seed;
    md->n = n + NELEM(odd);
    md->r = calloc(md->n, sizeof *md->r);
    for (size_t i = 0; i < n; i++) snprintf(md->r[i].id, sizeof md->r[i].id, "p-%06zu", i);
    for (size_t i = 0; i < NELEM(odd); i++)
        snprintf(md->r[n + i].id, sizeof md->r[0].id, "%s", odd[i]);
    {
        /* "(max)" becomes an id of the maximum length */
        char *last = md->r[n + NELEM(odd) - 1].id;
        memset(last, 'm', GW_ID_MAX);
        last[GW_ID_MAX] = '\0';
    }
    qsort(md->r, md->n, sizeof *md->r, cmp_mrec);
    md->ix = gw_index_new();
    for (size_t i = 0; i < NELEM(INDUSTRY); i++) {
        char *k = fold_str(INDUSTRY[i], strlen(INDUSTRY[i]));
        int dup = 0;
        for (size_t j = 0; j < md->nikeys; j++) dup |= strcmp(md->ikeys[j], k) == 0;
        if (dup) free(k);
        else md->ikeys[md->nikeys++] = k;
    }
}

static void model_free(model_t *md)
{
    for (size_t i = 0; i < md->n; i++) mrec_clear(&md->r[i]);
    free(md->r);
    for (size_t i = 0; i < md->nikeys; i++) free(md->ikeys[i]);
    gw_index_destroy(&md->ix);
    cr_assert_null(md->ix);
}

/* ---- queries ---- */

typedef struct {
    char search[32];
    size_t search_len;
    const char *inds[4];
    size_t ninds;
    unsigned mask;
    size_t limit;
    char after[GW_ID_MAX + 8];
    int has_after;
} tq_t;

static int ref_match(const mrec_t *m, const tq_t *t)
{
    if (!m->alive) return 0;
    if (t->ninds) {
        int ok = 0;
        for (size_t i = 0; i < t->ninds && m->ikey; i++) ok |= strcmp(m->ikey, t->inds[i]) == 0;
        if (!ok) return 0;
    }
    if (t->mask && !(t->mask & (1u << m->status))) return 0;
    if (t->search_len && !memmem(m->hay, m->hay_len, t->search, t->search_len)) return 0;
    return 1;
}

static void describe(const model_t *md, const tq_t *t, char *out, size_t outlen)
{
    char s[128];
    size_t k = 0;
    for (size_t i = 0; i < t->search_len && k + 5 < sizeof s; i++) {
        unsigned char c = (unsigned char)t->search[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') s[k++] = (char)c;
        else k += (size_t)snprintf(s + k, sizeof s - k, "\\x%02x", c);
    }
    s[k] = '\0';
    char inds[160] = "";
    for (size_t i = 0; i < t->ninds; i++) {
        strncat(inds, t->inds[i], sizeof inds - strlen(inds) - 2);
        strncat(inds, "|", sizeof inds - strlen(inds) - 1);
    }
    snprintf(out, outlen, "seed %llu query #%zu: search=\"%s\" industries=[%s] mask=0x%x limit=%zu",
             (unsigned long long)md->seed, md->queries, s, inds, t->mask, t->limit);
}

static void check_record_json(const model_t *md, const json_t *o, const mrec_t *m, const char *what)
{
    cr_assert(json_is_object(o), "%s: row is not an object", what);
    cr_assert_eq(json_object_size(o), 1 + GW_F_COUNT, "%s: row %s has %zu members", what, m->id,
                 json_object_size(o));
    cr_assert_str_eq(json_string_value(json_object_get(o, "id")), m->id, "%s", what);
    for (int f = 0; f < GW_F_COUNT; f++) {
        const json_t *v = json_object_get(o, gw_field_names[f]);
        cr_assert_not_null(v, "%s: %s lacks %s", what, m->id, gw_field_names[f]);
        if (m->vals[f]) {
            cr_assert(json_is_string(v), "%s: %s.%s is not a string", what, m->id,
                      gw_field_names[f]);
            cr_assert_str_eq(json_string_value(v), m->vals[f], "%s: %s.%s", what, m->id,
                             gw_field_names[f]);
        } else {
            cr_assert(json_is_null(v), "%s: %s.%s should be null", what, m->id, gw_field_names[f]);
        }
    }
    (void)md;
}

/* Runs one page and compares it with the model; returns res.more and leaves res in *res. */
static int run_page(model_t *md, const tq_t *t, const char *after, const size_t *match,
                    size_t nmatch, gw_query_result_t *res, const char *what)
{
    gw_query_t q = {0};
    q.search = t->search_len ? t->search : (chance(50) ? NULL : "");
    q.search_len = t->search_len;
    q.industries = t->ninds ? t->inds : NULL;
    q.n_industries = t->ninds;
    q.status_mask = t->mask;
    q.after_id = after;
    q.limit = t->limit;

    /* expected: the matches with id > after, at most limit of them */
    size_t first = 0;
    if (after)
        while (first < nmatch && strcmp(md->r[match[first]].id, after) <= 0) first++;
    size_t want = nmatch - first < t->limit ? nmatch - first : t->limit;
    int want_more = nmatch - first > t->limit;

    pa_buf_t out = PA_BUF_INIT;
    int prefixed = chance(20); /* the page is appended to what the buffer holds */
    if (prefixed) pa_buf_puts(&out, "PREFIX");
    memset(res, 0xa5, sizeof *res);
    gw_index_query(md->ix, &q, &out, res);
    md->pages++;
    size_t skip = prefixed ? 6 : 0;
    if (prefixed)
        cr_assert(memcmp(out.data, "PREFIX", 6) == 0, "%s: the prefix was overwritten", what);

    cr_assert_eq(res->total, nmatch, "%s after=%s: total %zu, want %zu", what,
                 after ? after : "(none)", res->total, nmatch);
    cr_assert_eq(res->count, want, "%s after=%s: count %zu, want %zu", what,
                 after ? after : "(none)", res->count, want);
    cr_assert_eq(!!res->more, want_more, "%s after=%s: more %d, want %d", what,
                 after ? after : "(none)", res->more, want_more);
    if (want)
        cr_assert_str_eq(res->last_id, md->r[match[first + want - 1]].id, "%s after=%s: last_id",
                         what, after ? after : "(none)");
    else cr_assert_str_eq(res->last_id, "", "%s: last_id of an empty page", what);

    json_error_t e;
    json_t *arr = json_loadb(out.data + skip, out.len - skip, 0, &e);
    cr_assert_not_null(arr, "%s: page is not JSON (%s): %.200s", what, e.text, out.data + skip);
    cr_assert(json_is_array(arr), "%s: page is not an array", what);
    cr_assert_eq(json_array_size(arr), want, "%s: %zu rows in the JSON, want %zu", what,
                 json_array_size(arr), want);
    for (size_t i = 0; i < want; i++) {
        const mrec_t *m = &md->r[match[first + i]];
        const json_t *o = json_array_get(arr, i);
        const char *id = json_string_value(json_object_get(o, "id"));
        cr_assert(id && strcmp(id, m->id) == 0, "%s after=%s: row %zu is %s, want %s", what,
                  after ? after : "(none)", i, id ? id : "(no id)", m->id);
        check_record_json(md, o, m, what);
    }
    json_decref(arr);
    pa_buf_free(&out);
    return res->more;
}

/* Builds a random query following the distribution described at the top. */
static void random_query(const model_t *md, tq_t *t)
{
    memset(t, 0, sizeof *t);
    unsigned kind = (unsigned)rnd(100);
    if (kind < 25) {
        /* no search */
    } else if (kind < 65) {
        /* a piece (1..6 bytes, possibly cutting a UTF-8 sequence) of a real record's folded text */
        const mrec_t *m = NULL;
        for (int tries = 0; tries < 50 && !m; tries++) {
            const mrec_t *c = &md->r[rnd(md->n)];
            if (c->hay) m = c;
        }
        if (m) {
            size_t len = 1 + rnd(6);
            if (len > m->hay_len) len = m->hay_len;
            size_t at = rnd(m->hay_len - len + 1);
            memcpy(t->search, m->hay + at, len);
            t->search_len = len;
        }
    } else if (kind < 80) {
        /* a piece of a raw field in its original case, folded as the API folds the query */
        const mrec_t *m = NULL;
        for (int tries = 0; tries < 50 && !m; tries++) {
            const mrec_t *c = &md->r[rnd(md->n)];
            if (c->hay) m = c;
        }
        if (m) {
            const char *v = m->vals[chance(50) ? GW_F_NAME : GW_F_COMPANY];
            size_t vl = strlen(v), len = 1 + rnd(6);
            if (len > vl) len = vl;
            size_t at = rnd(vl - len + 1);
            /* keep whole characters so the folded query is what the API would search for */
            while (at > 0 && ((unsigned char)v[at] & 0xc0) == 0x80) at--;
            size_t end = at + len;
            while (end < vl && ((unsigned char)v[end] & 0xc0) == 0x80) end++;
            char *f = fold_str(v + at, end - at);
            size_t fl = strlen(f);
            if (fl > sizeof t->search) fl = sizeof t->search;
            memcpy(t->search, f, fl);
            t->search_len = fl;
            free(f);
        }
    } else {
        /* random text, often 1 or 2 bytes */
        static const char *const piece[] = {
            "a", "e",  "o", "n", "r", "s", "ü", "é", "σ",    "ο",    "ß",  "-",   ".",  " ",
            "@", "\n", "x", "q", "z", "1", "ø", "ä", "\xc3", "\xa9", "é.", "n\n", "ΣΟ", "MÜ"};
        size_t target = chance(50) ? 1 + rnd(2) : 1 + rnd(6);
        pa_buf_t b = PA_BUF_INIT;
        while (b.len < target) pa_buf_puts(&b, piece[rnd(NELEM(piece))]);
        char *f = fold_str(b.data, b.len < target ? b.len : target);
        size_t fl = strlen(f);
        if (fl > sizeof t->search) fl = sizeof t->search;
        memcpy(t->search, f, fl);
        t->search_len = fl;
        free(f);
        pa_buf_free(&b);
    }
    if (chance(45)) {
        t->ninds = 1 + rnd(3);
        for (size_t i = 0; i < t->ninds; i++)
            t->inds[i] = chance(8) ? (chance(50) ? "unknown industry" : "SaaS") /* not folded */
                                   : md->ikeys[rnd(md->nikeys)];
    }
    if (chance(50)) t->mask = (unsigned)(1 + rnd((1u << GW_STATUS_COUNT) - 1));
    t->limit = 1 + rnd(50);
    if (chance(20)) {
        t->has_after = 1;
        switch (rnd(4)) {
        case 0: snprintf(t->after, sizeof t->after, "%s", md->r[rnd(md->n)].id); break;
        case 1: snprintf(t->after, sizeof t->after, "p-%04zu", rnd(40)); break; /* a prefix */
        case 2: snprintf(t->after, sizeof t->after, "%s~", md->r[rnd(md->n)].id); break;
        default: snprintf(t->after, sizeof t->after, "%s", chance(50) ? "" : "~"); break;
        }
    }
}

/* Runs t from its first page to the last, following last_id, and checks that the pages
 * together hold every match exactly once in id order. */
static void check_query(model_t *md, const tq_t *t)
{
    char what[512];
    md->queries++;
    describe(md, t, what, sizeof what);
    size_t *match = malloc((md->n + 1) * sizeof *match), nmatch = 0;
    for (size_t i = 0; i < md->n; i++)
        if (ref_match(&md->r[i], t)) match[nmatch++] = i;

    size_t first = 0;
    if (t->has_after)
        while (first < nmatch && strcmp(md->r[match[first]].id, t->after) <= 0) first++;

    char after[GW_ID_MAX + 8];
    const char *ap = NULL;
    if (t->has_after) {
        snprintf(after, sizeof after, "%s", t->after);
        ap = after;
    }
    size_t seen = 0, pages = 0;
    gw_query_result_t res;
    for (;;) {
        int more = run_page(md, t, ap, match, nmatch, &res, what);
        seen += res.count;
        pages++;
        cr_assert_leq(pages, nmatch + 2, "%s: the cursor walk does not end", what);
        if (!more) break;
        snprintf(after, sizeof after, "%s", res.last_id);
        ap = after;
    }
    cr_assert_eq(seen, nmatch - first, "%s: the walk saw %zu rows, want %zu", what, seen,
                 nmatch - first);
    /* past the last page: nothing, and nothing more */
    if (res.count) {
        snprintf(after, sizeof after, "%s", res.last_id);
        run_page(md, t, after, match, nmatch, &res, what);
        cr_assert_eq(res.count, 0, "%s: rows after the last page", what);
    }
    free(match);
}

static void check_gets(const model_t *md)
{
    cr_assert_eq(gw_index_count(md->ix), md->nalive, "seed %llu: count %zu, want %zu",
                 (unsigned long long)md->seed, gw_index_count(md->ix), md->nalive);
    for (size_t i = 0; i < md->n; i++) {
        const mrec_t *m = &md->r[i];
        const gw_prospect_t *p = gw_index_get(md->ix, m->id);
        if (!m->alive) {
            cr_assert_null(p, "seed %llu: get(%s) finds a deleted or never-put record",
                           (unsigned long long)md->seed, m->id);
            continue;
        }
        cr_assert_not_null(p, "seed %llu: get(%s) = NULL", (unsigned long long)md->seed, m->id);
        cr_assert_str_eq(p->id, m->id);
        cr_assert_eq(p->status, m->status, "get(%s): status", m->id);
        for (int f = 0; f < GW_F_COUNT; f++) {
            if (m->vals[f])
                cr_assert(p->f[f] && strcmp(p->f[f], m->vals[f]) == 0, "get(%s).%s", m->id,
                          gw_field_names[f]);
            else cr_assert_null(p->f[f], "get(%s).%s should be NULL", m->id, gw_field_names[f]);
        }
        cr_assert_eq(p->hay_len, m->hay_len, "get(%s): hay length", m->id);
        cr_assert(memcmp(p->hay, m->hay, m->hay_len) == 0, "get(%s): hay", m->id);
        if (m->ikey)
            cr_assert(p->industry_key && strcmp(p->industry_key, m->ikey) == 0,
                      "get(%s): industry key", m->id);
        else cr_assert_null(p->industry_key, "get(%s): industry key", m->id);
    }
    static const char *const nothere[] = {"", "p-", "p-9999999", "nope", "p-000000 ", "P-000000"};
    for (size_t i = 0; i < NELEM(nothere); i++) {
        int known = 0;
        for (size_t k = 0; k < md->n; k++)
            known |= md->r[k].alive && !strcmp(md->r[k].id, nothere[i]);
        if (!known) cr_assert_null(gw_index_get(md->ix, nothere[i]), "get(\"%s\")", nothere[i]);
    }
}

static void random_queries(model_t *md, size_t n)
{
    tq_t t;
    for (size_t i = 0; i < n; i++) {
        random_query(md, &t);
        check_query(md, &t);
    }
}

/* ---- the tests ---- */

Test(index, differential_random)
{
    model_t md;
    uint64_t seed = seed_rng(20240229);
    model_init(&md, 3000, seed);
    cr_assert_gt(md.n, 1);
    size_t *order = calloc(md.n, sizeof *order);
    cr_assert_not_null(order);
    for (size_t i = 0; i < md.n; i++) order[i] = i;
    for (size_t i = md.n - 1; i > 0; i--) { /* shuffled insertion order */
        size_t j = rnd(i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    size_t done = 0, batches = 0;
    while (done < md.n) {
        /* small batches take commit's insertion path, big ones its sort */
        size_t bs = chance(50) ? 1 + rnd(32) : 33 + rnd(400);
        for (size_t k = 0; k < bs && done < md.n; k++) {
            model_put(&md, order[done++]);
            if (chance(4)) { /* update a record already there (possibly from this batch) */
                size_t j = order[rnd(done)];
                if (md.r[j].alive) model_put(&md, j);
            }
            if (chance(3)) model_del(&md, order[rnd(done)]); /* may hit an already deleted one */
            if (chance(1) && done < md.n)
                model_del(&md, order[done + rnd(md.n - done)]); /* never put */
            if (chance(2)) {                                    /* re-put a deleted id */
                size_t j = order[rnd(done)];
                if (!md.r[j].alive) model_put(&md, j);
            }
        }
        gw_index_commit(md.ix);
        batches++;
        cr_assert_eq(gw_index_count(md.ix), md.nalive, "seed %llu: count after batch %zu",
                     (unsigned long long)seed, batches);
        random_queries(&md, 2);
    }
    check_gets(&md);
    random_queries(&md, 300);

    /* a second round of churn over the full index: updates, deletes, re-puts */
    for (int round = 0; round < 5; round++) {
        for (size_t k = 0; k < 200; k++) {
            size_t j = rnd(md.n);
            if (md.r[j].alive && chance(50)) model_del(&md, j);
            else model_put(&md, j);
        }
        gw_index_commit(md.ix);
        check_gets(&md);
        random_queries(&md, 20);
    }
    cr_log_info("seed %llu: %zu queries, %zu pages, %zu live of %zu ids", (unsigned long long)seed,
                md.queries, md.pages, md.nalive, md.n);
    free(order);
    model_free(&md);
}

Test(index, full_walk_unfiltered_and_by_status)
{
    model_t md;
    seed_rng(7);
    model_init(&md, 3000, 7);
    for (size_t i = 0; i < md.n; i++) model_put(&md, (i * 7919) % md.n); /* 7919 is prime */
    gw_index_commit(md.ix);
    tq_t t;
    memset(&t, 0, sizeof t);
    for (size_t limit = 1; limit <= 1000; limit = limit * 3 + 1) {
        t.limit = limit;
        t.mask = 0;
        check_query(&md, &t);
        t.mask = 1u << (limit % GW_STATUS_COUNT);
        check_query(&md, &t);
    }
    model_free(&md);
}

Test(index, delete_then_reput_same_id)
{
    model_t md;
    seed_rng(99);
    model_init(&md, 50, 99);
    for (size_t i = 0; i < md.n; i++) model_put(&md, i);
    gw_index_commit(md.ix);
    size_t k = 20;
    const char *id = md.r[k].id;
    model_del(&md, k);
    cr_assert_null(gw_index_get(md.ix, id));
    model_del(&md, k); /* a second delete finds nothing (-1) */
    tq_t t;
    memset(&t, 0, sizeof t);
    t.limit = 1000;
    check_query(&md, &t);
    model_put(&md, k); /* re-put without a commit in between puts, then commit */
    gw_index_commit(md.ix);
    cr_assert_not_null(gw_index_get(md.ix, id));
    check_gets(&md);
    check_query(&md, &t);
    t.limit = 3;
    check_query(&md, &t);
    /* delete and re-put many times over, including before a commit */
    for (int i = 0; i < 50; i++) {
        model_del(&md, k);
        model_put(&md, k);
        if (i % 3 == 0) gw_index_commit(md.ix);
    }
    gw_index_commit(md.ix);
    check_gets(&md);
    random_queries(&md, 40);
    /* delete every record, then put them back */
    for (size_t i = 0; i < md.n; i++) model_del(&md, i);
    cr_assert_eq(gw_index_count(md.ix), 0);
    t.limit = 10;
    check_query(&md, &t);
    for (size_t i = md.n; i-- > 0;) model_put(&md, i);
    gw_index_commit(md.ix);
    check_gets(&md);
    random_queries(&md, 40);
    model_free(&md);
}

Test(index, compaction_after_mass_delete)
{
    model_t md;
    uint64_t seed = seed_rng(4242);
    model_init(&md, 10000, seed);
    for (size_t i = 0; i < md.n; i++) model_put(&md, i);
    gw_index_commit(md.ix);
    const gw_prospect_t *keep = gw_index_get(md.ix, md.r[1].id);
    cr_assert_not_null(keep);
    /* delete 6500 random records (> 4096 and more than half): compaction runs on the way */
    size_t deleted = 0;
    while (deleted < 6500) {
        size_t j = 2 + rnd(md.n - 2);
        if (!md.r[j].alive) continue;
        model_del(&md, j);
        deleted++;
    }
    gw_index_commit(md.ix);
    cr_assert_eq(gw_index_count(md.ix), md.n - 6500);
    cr_assert_eq(gw_index_get(md.ix, md.r[1].id), keep, "compaction moves records, not copies");
    check_gets(&md);
    random_queries(&md, 60);
    /* after compaction: put new and deleted ids back, update, delete again */
    for (size_t k = 0; k < 3000; k++) {
        size_t j = rnd(md.n);
        if (md.r[j].alive && chance(30)) model_del(&md, j);
        else model_put(&md, j);
        if (k % 500 == 499) gw_index_commit(md.ix);
    }
    gw_index_commit(md.ix);
    check_gets(&md);
    random_queries(&md, 40);
    /* delete everything: compaction down to an empty index */
    for (size_t i = 0; i < md.n; i++)
        if (md.r[i].alive) model_del(&md, i);
    gw_index_commit(md.ix);
    cr_assert_eq(gw_index_count(md.ix), 0);
    random_queries(&md, 10);
    for (size_t i = 0; i < 100; i++) model_put(&md, rnd(md.n));
    gw_index_commit(md.ix);
    check_gets(&md);
    random_queries(&md, 20);
    model_free(&md);
}

Test(index, empty_index)
{
    gw_index_t *ix = gw_index_new();
    gw_index_commit(ix);
    cr_assert_eq(gw_index_count(ix), 0);
    cr_assert_null(gw_index_get(ix, "p-1"));
    cr_assert_eq(gw_index_del(ix, "p-1"), -1);
    const char *inds[] = {"saas"};
    const char *searches[] = {"", "a", "ab", "abc", "abcdef"};
    for (size_t s = 0; s < NELEM(searches); s++) {
        for (int withind = 0; withind < 2; withind++) {
            gw_query_t q = {0};
            q.search = searches[s];
            q.search_len = strlen(searches[s]);
            q.industries = withind ? inds : NULL;
            q.n_industries = withind ? 1 : 0;
            q.status_mask = withind ? 3 : 0;
            q.after_id = withind ? "p-0" : NULL;
            q.limit = 10;
            pa_buf_t out = PA_BUF_INIT;
            gw_query_result_t res;
            gw_index_query(ix, &q, &out, &res);
            cr_assert_str_eq(out.data, "[]");
            cr_assert_eq(res.total, 0);
            cr_assert_eq(res.count, 0);
            cr_assert_eq(res.more, 0);
            cr_assert_str_eq(res.last_id, "");
            pa_buf_free(&out);
        }
    }
    gw_index_destroy(&ix);
    gw_index_destroy(&ix); /* destroying NULL is a no-op */
}

Test(index, swap_in_replaces_contents)
{
    model_t a, b;
    seed_rng(5);
    model_init(&a, 300, 5);
    model_init(&b, 300, 5);
    for (size_t i = 0; i < a.n; i++) model_put(&a, i);
    gw_index_commit(a.ix);
    for (size_t i = 0; i < b.n; i += 2) model_put(&b, i);
    gw_index_commit(b.ix);
    /* a's index takes b's contents; the model follows b */
    gw_index_swap_in(a.ix, &b.ix);
    cr_assert_null(b.ix);
    b.ix = a.ix;
    a.ix = NULL;
    check_gets(&b);
    random_queries(&b, 30);
    for (size_t i = 1; i < b.n; i += 2) model_put(&b, i);
    gw_index_commit(b.ix);
    check_gets(&b);
    random_queries(&b, 30);
    model_free(&a);
    model_free(&b);
}
