/* The in-memory prospect index.
 *
 * Records live in slots (append-only; a deleted slot stays empty until the index is compacted),
 * so every per-slot structure stays valid while records come and go:
 *   - bitmaps over slots for "live", each status and each (case-folded) industry;
 *   - trigram posting lists: for each 3-byte sequence of a record's folded search text, the
 *     ascending list of slots holding it; a search of 3+ bytes starts from the shortest list;
 *   - `order`, the live slots sorted by id, which gives pages in id order and cursors.
 * A query touches only candidates (posting list) or whole bitmap words, never every record. */
#include "gw_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    uint32_t *v;
    uint32_t n, cap;
} u32vec_t;

typedef struct {
    char *key; /* folded industry */
    uint64_t *bits;
} industry_t;

struct gw_index {
    gw_prospect_t **slots;
    uint32_t nslots, capslots, nlive, ndead;
    uint64_t *live;
    uint64_t *status_bits[GW_STATUS_COUNT];
    industry_t *ind;
    uint32_t nind;
    /* id -> slot+1, open addressing with linear probing; 0 is empty */
    uint32_t *idmap;
    uint32_t idmap_cap;
    /* trigram -> posting list; keys are trigram+1 (0 empty) */
    uint32_t *tri_keys;
    uint32_t *tri_val;
    uint32_t tri_cap, tri_n;
    u32vec_t *post;
    uint32_t npost, cappost;
    uint32_t *order;
    uint32_t norder, sorted; /* order[0..sorted) is sorted; the rest was appended since */
};

static size_t words(uint32_t slots)
{
    return (slots + 63u) / 64u;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint32_t hash_u32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

gw_index_t *gw_index_new(void)
{
    gw_index_t *ix = pa_calloc(1, sizeof *ix);
    ix->idmap_cap = 1024;
    ix->idmap = pa_calloc(ix->idmap_cap, sizeof *ix->idmap);
    ix->tri_cap = 4096;
    ix->tri_keys = pa_calloc(ix->tri_cap, sizeof *ix->tri_keys);
    ix->tri_val = pa_calloc(ix->tri_cap, sizeof *ix->tri_val);
    return ix;
}

static void free_parts(gw_index_t *ix)
{
    for (uint32_t i = 0; i < ix->nslots; i++) free(ix->slots[i]);
    free(ix->slots);
    free(ix->live);
    for (int i = 0; i < GW_STATUS_COUNT; i++) free(ix->status_bits[i]);
    for (uint32_t i = 0; i < ix->nind; i++) {
        free(ix->ind[i].key);
        free(ix->ind[i].bits);
    }
    free(ix->ind);
    free(ix->idmap);
    free(ix->tri_keys);
    free(ix->tri_val);
    for (uint32_t i = 0; i < ix->npost; i++) free(ix->post[i].v);
    free(ix->post);
    free(ix->order);
}

void gw_index_destroy(gw_index_t **ixp)
{
    if (!*ixp) return;
    free_parts(*ixp);
    free(*ixp);
    *ixp = NULL;
}

void gw_index_swap_in(gw_index_t *dst, gw_index_t **src)
{
    free_parts(dst);
    *dst = **src;
    free(*src);
    *src = NULL;
}

size_t gw_index_count(const gw_index_t *ix)
{
    return ix->nlive;
}

/* ---- bitmaps ---- */

static void bits_grow(uint64_t **b, size_t oldw, size_t neww)
{
    *b = pa_realloc(*b, neww * sizeof **b);
    memset(*b + oldw, 0, (neww - oldw) * sizeof **b);
}

static void set_bit(uint64_t *b, uint32_t i)
{
    b[i / 64] |= 1ull << (i % 64);
}

static void clr_bit(uint64_t *b, uint32_t i)
{
    b[i / 64] &= ~(1ull << (i % 64));
}

static int get_bit(const uint64_t *b, uint32_t i)
{
    return (int)((b[i / 64] >> (i % 64)) & 1u);
}

static void grow_slots(gw_index_t *ix)
{
    uint32_t cap = ix->capslots ? ix->capslots * 2 : 1024;
    size_t ow = words(ix->capslots), nw = words(cap);
    ix->slots = pa_realloc(ix->slots, cap * sizeof *ix->slots);
    bits_grow(&ix->live, ow, nw);
    for (int i = 0; i < GW_STATUS_COUNT; i++) bits_grow(&ix->status_bits[i], ow, nw);
    for (uint32_t i = 0; i < ix->nind; i++) bits_grow(&ix->ind[i].bits, ow, nw);
    ix->order = pa_realloc(ix->order, cap * sizeof *ix->order);
    ix->capslots = cap;
}

static uint64_t *industry_bits(gw_index_t *ix, const char *key, int create)
{
    for (uint32_t i = 0; i < ix->nind; i++)
        if (strcmp(ix->ind[i].key, key) == 0) return ix->ind[i].bits;
    if (!create) return NULL;
    ix->ind = pa_realloc(ix->ind, (ix->nind + 1) * sizeof *ix->ind);
    ix->ind[ix->nind].key = pa_strdup(key);
    ix->ind[ix->nind].bits = pa_calloc(words(ix->capslots), sizeof(uint64_t));
    return ix->ind[ix->nind++].bits;
}

/* ---- id map ---- */

static uint32_t *idmap_find(const gw_index_t *ix, const char *id)
{
    uint32_t mask = ix->idmap_cap - 1;
    for (uint32_t i = (uint32_t)hash_str(id) & mask;; i = (i + 1) & mask) {
        uint32_t e = ix->idmap[i];
        if (!e || strcmp(ix->slots[e - 1]->id, id) == 0) return &ix->idmap[i];
    }
}

static void idmap_insert(gw_index_t *ix, uint32_t slot);

static void idmap_grow(gw_index_t *ix)
{
    uint32_t *old = ix->idmap, oldcap = ix->idmap_cap;
    ix->idmap_cap *= 2;
    ix->idmap = pa_calloc(ix->idmap_cap, sizeof *ix->idmap);
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i]) idmap_insert(ix, old[i] - 1);
    free(old);
}

static void idmap_insert(gw_index_t *ix, uint32_t slot)
{
    if ((ix->nlive + 1) * 2 > ix->idmap_cap) idmap_grow(ix);
    *idmap_find(ix, ix->slots[slot]->id) = slot + 1;
}

/* Removes the entry at position pos, shifting later entries of the same run back so that
 * lookups never stop early at a hole (linear-probing deletion without tombstones). */
static void idmap_remove(gw_index_t *ix, uint32_t *e)
{
    uint32_t mask = ix->idmap_cap - 1, hole = (uint32_t)(e - ix->idmap);
    ix->idmap[hole] = 0;
    for (uint32_t i = (hole + 1) & mask; ix->idmap[i]; i = (i + 1) & mask) {
        uint32_t home = (uint32_t)hash_str(ix->slots[ix->idmap[i] - 1]->id) & mask;
        /* move it into the hole if its home is not in (hole, i] cyclically */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            ix->idmap[hole] = ix->idmap[i];
            ix->idmap[i] = 0;
            hole = i;
        }
    }
}

const gw_prospect_t *gw_index_get(const gw_index_t *ix, const char *id)
{
    uint32_t e = *idmap_find(ix, id);
    return e ? ix->slots[e - 1] : NULL;
}

/* ---- trigrams ---- */

static u32vec_t *tri_get(const gw_index_t *ix, uint32_t tri)
{
    uint32_t mask = ix->tri_cap - 1, key = tri + 1;
    for (uint32_t i = hash_u32(key) & mask; ix->tri_keys[i]; i = (i + 1) & mask)
        if (ix->tri_keys[i] == key) return &ix->post[ix->tri_val[i]];
    return NULL;
}

static void tri_grow(gw_index_t *ix)
{
    uint32_t *ok = ix->tri_keys, *ov = ix->tri_val, oc = ix->tri_cap;
    ix->tri_cap *= 2;
    ix->tri_keys = pa_calloc(ix->tri_cap, sizeof *ix->tri_keys);
    ix->tri_val = pa_calloc(ix->tri_cap, sizeof *ix->tri_val);
    uint32_t mask = ix->tri_cap - 1;
    for (uint32_t j = 0; j < oc; j++) {
        if (!ok[j]) continue;
        uint32_t i = hash_u32(ok[j]) & mask;
        while (ix->tri_keys[i]) i = (i + 1) & mask;
        ix->tri_keys[i] = ok[j];
        ix->tri_val[i] = ov[j];
    }
    free(ok);
    free(ov);
}

static u32vec_t *tri_get_or_add(gw_index_t *ix, uint32_t tri)
{
    u32vec_t *v = tri_get(ix, tri);
    if (v) return v;
    if ((ix->tri_n + 1) * 2 > ix->tri_cap) tri_grow(ix);
    uint32_t mask = ix->tri_cap - 1, key = tri + 1, i = hash_u32(key) & mask;
    while (ix->tri_keys[i]) i = (i + 1) & mask;
    if (ix->npost == ix->cappost) {
        ix->cappost = ix->cappost ? ix->cappost * 2 : 1024;
        ix->post = pa_realloc(ix->post, ix->cappost * sizeof *ix->post);
    }
    ix->tri_keys[i] = key;
    ix->tri_val[i] = ix->npost;
    ix->tri_n++;
    v = &ix->post[ix->npost++];
    memset(v, 0, sizeof *v);
    return v;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The distinct trigrams of s, sorted; returns their number; *out is the caller's to free. */
static uint32_t trigrams(const char *s, size_t n, uint32_t **out)
{
    if (n < 3) {
        *out = NULL;
        return 0;
    }
    uint32_t *t = pa_malloc((n - 2) * sizeof *t), k = 0;
    for (size_t i = 0; i + 2 < n; i++)
        t[k++] = ((uint32_t)(unsigned char)s[i] << 16) | ((uint32_t)(unsigned char)s[i + 1] << 8) |
                 (unsigned char)s[i + 2];
    qsort(t, k, sizeof *t, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < k; i++)
        if (!u || t[u - 1] != t[i]) t[u++] = t[i];
    *out = t;
    return u;
}

static uint32_t lower_bound(const uint32_t *v, uint32_t n, uint32_t x)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void post_add(u32vec_t *v, uint32_t slot)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->v = pa_realloc(v->v, v->cap * sizeof *v->v);
    }
    uint32_t at = (v->n && v->v[v->n - 1] > slot) ? lower_bound(v->v, v->n, slot) : v->n;
    memmove(v->v + at + 1, v->v + at, (v->n - at) * sizeof *v->v);
    v->v[at] = slot;
    v->n++;
}

static void post_del(u32vec_t *v, uint32_t slot)
{
    uint32_t at = lower_bound(v->v, v->n, slot);
    if (at < v->n && v->v[at] == slot) {
        memmove(v->v + at, v->v + at + 1, (v->n - at - 1) * sizeof *v->v);
        v->n--;
    }
}

/* ---- attach / detach a record to a slot's per-slot structures ---- */

static void attach(gw_index_t *ix, uint32_t slot, const gw_prospect_t *p)
{
    set_bit(ix->status_bits[p->status], slot);
    if (p->industry_key) set_bit(industry_bits(ix, p->industry_key, 1), slot);
    uint32_t *t;
    uint32_t n = trigrams(p->hay, p->hay_len, &t);
    for (uint32_t i = 0; i < n; i++) post_add(tri_get_or_add(ix, t[i]), slot);
    free(t);
}

static void detach(gw_index_t *ix, uint32_t slot, const gw_prospect_t *p)
{
    clr_bit(ix->status_bits[p->status], slot);
    if (p->industry_key) {
        uint64_t *b = industry_bits(ix, p->industry_key, 0);
        if (b) clr_bit(b, slot);
    }
    uint32_t *t;
    uint32_t n = trigrams(p->hay, p->hay_len, &t);
    for (uint32_t i = 0; i < n; i++) {
        u32vec_t *v = tri_get(ix, t[i]);
        if (v) post_del(v, slot);
    }
    free(t);
}

void gw_index_put(gw_index_t *ix, gw_prospect_t *p)
{
    uint32_t *e = idmap_find(ix, p->id);
    if (*e) {
        uint32_t slot = *e - 1;
        gw_prospect_t *old = ix->slots[slot];
        detach(ix, slot, old);
        ix->slots[slot] = p; /* same id, so the id map and the order stay right */
        attach(ix, slot, p);
        free(old);
        return;
    }
    if (ix->nslots == ix->capslots) grow_slots(ix);
    uint32_t slot = ix->nslots++;
    ix->slots[slot] = p;
    set_bit(ix->live, slot);
    idmap_insert(ix, slot);
    ix->nlive++;
    attach(ix, slot, p);
    ix->order[ix->norder++] = slot;
}

static int id_cmp(const gw_index_t *ix, uint32_t a, uint32_t b)
{
    return strcmp(ix->slots[a]->id, ix->slots[b]->id);
}

/* First position in order[0..n) whose id is greater than id (or >= when inclusive). */
static uint32_t order_bound(const gw_index_t *ix, const char *id, int inclusive)
{
    uint32_t lo = 0, hi = ix->sorted;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ix->slots[ix->order[mid]]->id, id);
        if (c < 0 || (c == 0 && !inclusive)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int cmp_slot_id(const void *a, const void *b, void *ctx)
{
    return id_cmp(ctx, *(const uint32_t *)a, *(const uint32_t *)b);
}

static void sort_slots(const gw_index_t *ix, uint32_t *v, size_t n)
{
    qsort_r(v, n, sizeof *v, cmp_slot_id, (void *)ix);
}

static void compact(gw_index_t *ix);

void gw_index_commit(gw_index_t *ix)
{
    uint32_t k = ix->norder - ix->sorted;
    if (k) {
        /* Sort what was appended, then merge it into the sorted prefix. New ids usually sort
         * after every existing one (ids are time-ordered), which makes the merge a no-op. */
        uint32_t *tail = ix->order + ix->sorted;
        sort_slots(ix, tail, k);
        if (ix->sorted && id_cmp(ix, tail[0], ix->order[ix->sorted - 1]) < 0) {
            uint32_t *merged = pa_malloc(ix->norder * sizeof *merged);
            uint32_t a = 0, b = 0, o = 0;
            while (a < ix->sorted && b < k)
                merged[o++] = id_cmp(ix, ix->order[a], tail[b]) <= 0 ? ix->order[a++] : tail[b++];
            while (a < ix->sorted) merged[o++] = ix->order[a++];
            while (b < k) merged[o++] = tail[b++];
            memcpy(ix->order, merged, ix->norder * sizeof *merged);
            free(merged);
        }
        ix->sorted = ix->norder;
    }
    if (ix->ndead > 4096 && ix->ndead > ix->nlive) compact(ix);
}

int gw_index_del(gw_index_t *ix, const char *id)
{
    gw_index_commit(ix);
    uint32_t *e = idmap_find(ix, id);
    if (!*e) return -1;
    uint32_t slot = *e - 1;
    gw_prospect_t *p = ix->slots[slot];
    uint32_t at = order_bound(ix, id, 1);
    memmove(ix->order + at, ix->order + at + 1, (ix->norder - at - 1) * sizeof *ix->order);
    ix->norder--;
    ix->sorted--;
    idmap_remove(ix, e);
    detach(ix, slot, p);
    clr_bit(ix->live, slot);
    ix->slots[slot] = NULL;
    ix->nlive--;
    ix->ndead++;
    free(p);
    return 0;
}

/* Rebuilds the index without the empty slots left by deletions. */
static void compact(gw_index_t *ix)
{
    gw_index_t *fresh = gw_index_new();
    for (uint32_t i = 0; i < ix->norder; i++) {
        uint32_t s = ix->order[i];
        gw_index_put(fresh, ix->slots[s]);
        ix->slots[s] = NULL;
    }
    fresh->sorted = fresh->norder; /* added in id order */
    gw_index_swap_in(ix, &fresh);
}

/* ---- queries ---- */

static int slot_passes(const gw_index_t *ix, uint32_t s, const uint64_t *ind, const uint64_t *st)
{
    if (!get_bit(ix->live, s)) return 0;
    if (ind && !get_bit(ind, s)) return 0;
    if (st && !get_bit(st, s)) return 0;
    return 1;
}

static int text_matches(const gw_prospect_t *p, const gw_query_t *q)
{
    return memmem(p->hay, p->hay_len, q->search, q->search_len) != NULL;
}

static void emit(const gw_index_t *ix, uint32_t s, pa_buf_t *out, gw_query_result_t *res)
{
    const gw_prospect_t *p = ix->slots[s];
    if (res->count) pa_buf_putc(out, ',');
    pa_buf_put(out, p->json, p->json_len);
    res->count++;
    strcpy(res->last_id, p->id);
}

/* ---- sorted by a field ---------------------------------------------------------------------- */

/* The value a record sorts by (NULL: null). */
static const char *sort_val(const gw_prospect_t *p, int sort)
{
    if (sort == GW_SORT_ID) return p->id;
    int f = sort - 2;
    if (f == GW_F_STATUS) return gw_status_names[p->status];
    return p->f[f];
}

/* (value, id) against (value, id) in the query's order: nulls last, the value case-insensitively
 * (then bytewise, so the order is total), ties by id; all reversed when descending, but nulls
 * stay last. */
static int cmp_key(const gw_query_t *q, const char *va, const char *ida, const char *vb,
                   const char *idb)
{
    if (!va != !vb) return va ? -1 : 1;
    int c = 0;
    if (va) {
        c = strcasecmp(va, vb);
        if (!c) c = strcmp(va, vb);
    }
    if (!c) c = strcmp(ida, idb);
    return q->sort_desc ? -c : c;
}

typedef struct {
    const gw_index_t *ix;
    const gw_query_t *q;
} sort_ctx_t;

static int cmp_sorted(const void *a, const void *b, void *ctx)
{
    const sort_ctx_t *c = ctx;
    const gw_prospect_t *pa = c->ix->slots[*(const uint32_t *)a],
                        *pb = c->ix->slots[*(const uint32_t *)b];
    return cmp_key(c->q, sort_val(pa, c->q->sort), pa->id, sort_val(pb, c->q->sort), pb->id);
}

/* A max-heap of the k smallest rows seen (by cmp_sorted), k = limit + 1: one page and whether
 * more follow, in O(n log k) over n matches, whatever the order. */
typedef struct {
    uint32_t *v;
    size_t n, k;
    sort_ctx_t ctx;
} topk_t;

static void topk_swap(uint32_t *a, uint32_t *b)
{
    uint32_t t = *a;
    *a = *b, *b = t;
}

static void topk_push(topk_t *h, uint32_t s)
{
    if (h->n == h->k) {
        if (cmp_sorted(&s, &h->v[0], &h->ctx) >= 0) return; /* not among the k smallest */
        h->v[0] = s;                                        /* replaces the largest; sift down */
        for (size_t i = 0;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < h->n && cmp_sorted(&h->v[l], &h->v[m], &h->ctx) > 0) m = l;
            if (r < h->n && cmp_sorted(&h->v[r], &h->v[m], &h->ctx) > 0) m = r;
            if (m == i) break;
            topk_swap(&h->v[i], &h->v[m]);
            i = m;
        }
        return;
    }
    size_t i = h->n++;
    h->v[i] = s;
    while (i > 0 && cmp_sorted(&h->v[i], &h->v[(i - 1) / 2], &h->ctx) > 0) {
        topk_swap(&h->v[i], &h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

/* After the cursor (a row strictly after (after_val, after_id) in the order)? */
static int after_cursor(const gw_query_t *q, const gw_prospect_t *p)
{
    if (!q->after_id) return 1;
    return cmp_key(q, sort_val(p, q->sort), p->id, q->after_null ? NULL : q->after_val,
                   q->after_id) > 0;
}

static void emit_sorted(const gw_index_t *ix, const gw_query_t *q, topk_t *h, pa_buf_t *out,
                        gw_query_result_t *res)
{
    qsort_r(h->v, h->n, sizeof *h->v, cmp_sorted, &h->ctx);
    for (size_t i = 0; i < h->n; i++) {
        if (res->count == q->limit) {
            res->more = 1;
            break;
        }
        emit(ix, h->v[i], out, res);
        const char *v = sort_val(ix->slots[h->v[i]], q->sort);
        res->last_null = v == NULL;
        snprintf(res->last_val, sizeof res->last_val, "%s", v ? v : "");
    }
}

void gw_index_query(const gw_index_t *ix, const gw_query_t *q, pa_buf_t *out,
                    gw_query_result_t *res)
{
    memset(res, 0, sizeof *res);
    pa_buf_putc(out, '[');
    size_t nw = words(ix->nslots);
    uint64_t *ind = NULL, *st = NULL;
    int none = 0;
    if (q->n_industries) {
        ind = pa_calloc(nw ? nw : 1, sizeof *ind);
        int any = 0;
        for (size_t i = 0; i < q->n_industries; i++) {
            const uint64_t *b = NULL;
            for (uint32_t k = 0; k < ix->nind; k++)
                if (strcmp(ix->ind[k].key, q->industries[i]) == 0) b = ix->ind[k].bits;
            if (!b) continue;
            any = 1;
            for (size_t w = 0; w < nw; w++) ind[w] |= b[w];
        }
        none |= !any;
    }
    if (q->status_mask) {
        st = pa_calloc(nw ? nw : 1, sizeof *st);
        for (int i = 0; i < GW_STATUS_COUNT; i++)
            if (q->status_mask & (1u << i))
                for (size_t w = 0; w < nw; w++) st[w] |= ix->status_bits[i][w];
    }
    size_t limit = q->limit;
    int sorted = q->sort != GW_SORT_NONE;
    uint32_t start = q->after_id && !sorted ? order_bound(ix, q->after_id, 0) : 0;
    topk_t h = {.k = limit + 1, .ctx = {ix, q}};
    if (sorted) h.v = pa_malloc((limit + 1) * sizeof *h.v);

    if (none) {
        /* an industry no record has: nothing matches */
    } else if (sorted && q->search_len == 0) {
        for (size_t w = 0; w < nw; w++) {
            uint64_t x = ix->live[w] & (ind ? ind[w] : ~0ull) & (st ? st[w] : ~0ull);
            res->total += (size_t)__builtin_popcountll(x);
        }
        for (uint32_t k = 0; k < ix->norder; k++) {
            uint32_t s = ix->order[k];
            if (slot_passes(ix, s, ind, st) && after_cursor(q, ix->slots[s])) topk_push(&h, s);
        }
        emit_sorted(ix, q, &h, out, res);
    } else if (q->search_len == 0) {
        /* Bitmaps only: count whole words, then walk the id order from the cursor. */
        for (size_t w = 0; w < nw; w++) {
            uint64_t x = ix->live[w] & (ind ? ind[w] : ~0ull) & (st ? st[w] : ~0ull);
            res->total += (size_t)__builtin_popcountll(x);
        }
        for (uint32_t k = start; k < ix->norder; k++) {
            uint32_t s = ix->order[k];
            if (!slot_passes(ix, s, ind, st)) continue;
            if (res->count == limit) {
                res->more = 1;
                break;
            }
            emit(ix, s, out, res);
        }
    } else {
        /* Candidates: the shortest posting list among the query's trigrams, or every slot for
         * a query shorter than a trigram; each is checked against the filters and the text. */
        const uint32_t *cand = NULL;
        uint32_t ncand = ix->nslots;
        uint32_t *t;
        uint32_t nt = trigrams(q->search, q->search_len, &t);
        for (uint32_t i = 0; i < nt; i++) {
            const u32vec_t *v = tri_get(ix, t[i]);
            if (!v || v->n == 0) {
                ncand = 0;
                cand = NULL;
                break;
            }
            if (!cand || v->n < ncand) cand = v->v, ncand = v->n;
        }
        if (nt && !cand) ncand = 0;
        free(t);
        uint32_t *hits = pa_malloc((ncand ? ncand : 1) * sizeof *hits), nh = 0;
        for (uint32_t i = 0; i < ncand; i++) {
            uint32_t s = cand ? cand[i] : i;
            if (!slot_passes(ix, s, ind, st) || !text_matches(ix->slots[s], q)) continue;
            res->total++;
            if (sorted) {
                if (after_cursor(q, ix->slots[s])) topk_push(&h, s);
                continue;
            }
            if (q->after_id && strcmp(ix->slots[s]->id, q->after_id) <= 0) continue;
            hits[nh++] = s;
        }
        if (sorted) emit_sorted(ix, q, &h, out, res);
        sort_slots(ix, hits, nh);
        for (uint32_t i = 0; i < nh; i++) {
            if (res->count == limit) {
                res->more = 1;
                break;
            }
            emit(ix, hits[i], out, res);
        }
        free(hits);
    }
    free(h.v);
    free(ind);
    free(st);
    pa_buf_putc(out, ']');
}
