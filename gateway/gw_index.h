/* The in-memory prospect index: records by id, kept in id order, with bitmaps per status and
 * industry and a trigram index for substring search. Not thread-safe: the store locks it. */
#ifndef GW_INDEX_H
#define GW_INDEX_H
#include <stddef.h>

#include "gw_prospect.h"
#include "pa_buf.h"

typedef struct gw_index gw_index_t;

typedef struct {
    const char *search; /* case-folded; NULL or "" for none */
    size_t search_len;
    const char *const *industries; /* case-folded set; n_industries 0 for none */
    size_t n_industries;
    unsigned status_mask; /* bit i = gw_status_names[i]; 0 for none */
    const char *after_id; /* cursor: only rows after this one; NULL for the first page */
    size_t limit;
    /* the order: by id ascending (sort GW_SORT_NONE, what a zeroed query has), or by
     * GW_SORT_ID or GW_SORT_F(a GW_F_*), descending when sort_desc, ties by id, nulls last. Then
     * the cursor is the last row's value (after_null: it was null) and id. */
    int sort;
    int sort_desc;
    const char *after_val;
    int after_null;
} gw_query_t;

#define GW_SORT_NONE 0
#define GW_SORT_ID 1
#define GW_SORT_F(f) ((f) + 2)
#define GW_SORT_VAL_MAX 1024

typedef struct {
    size_t total; /* matches over all pages */
    size_t count; /* rows written */
    int more;     /* more rows follow after the last one written */
    char last_id[GW_ID_MAX + 1];
    char last_val[GW_SORT_VAL_MAX]; /* sorted by a field: the last row's value, */
    int last_null;                  /* or that it was null */
} gw_query_result_t;

gw_index_t *gw_index_new(void);
void gw_index_destroy(gw_index_t **ix);
/* Takes ownership of p and replaces any record with the same id. */
void gw_index_put(gw_index_t *ix, gw_prospect_t *p);
/* 0 when a record was removed, -1 when there was none. */
int gw_index_del(gw_index_t *ix, const char *id);
/* Puts the id order right after a batch of puts; queries need it. */
void gw_index_commit(gw_index_t *ix);
size_t gw_index_count(const gw_index_t *ix);
const gw_prospect_t *gw_index_get(const gw_index_t *ix, const char *id);
/* Appends the JSON array of one page of matches to out. */
void gw_index_query(const gw_index_t *ix, const gw_query_t *q, pa_buf_t *out,
                    gw_query_result_t *res);
/* Moves every record of src into dst's place: dst ends up as src was; src is destroyed. */
void gw_index_swap_in(gw_index_t *dst, gw_index_t **src);

#endif
