/* The prospect store: Redis holds the truth; every gateway keeps an in-memory index that a
 * sync thread keeps current from the change stream, so reads never wait on Redis. */
#ifndef GW_STORE_H
#define GW_STORE_H
#include <stddef.h>

#include "gw_index.h"
#include "gw_prospect.h"
#include "pa_redis.h"

typedef struct gw_store gw_store_t;

typedef enum {
    GW_W_CREATED,
    GW_W_UPDATED,
    GW_W_DELETED,
    GW_W_NOTFOUND,
    GW_W_CONFLICT,   /* field says which: "id" or "email" */
    GW_W_INVALID,    /* field says which required field is missing */
    GW_W_UNAVAILABLE /* Redis could not be reached */
} gw_write_status_t;

typedef enum { GW_MODE_CREATE, GW_MODE_PATCH, GW_MODE_UPSERT } gw_write_mode_t;

typedef struct {
    gw_write_status_t status;
    char id[GW_ID_MAX + 1];
    char field[16];
    char owner[GW_ID_MAX + 1]; /* for a conflict: the prospect that holds the id or email */
    long long seq;
    char *json; /* the record as the API shows it, for CREATED/UPDATED; caller frees */
    size_t json_len;
} gw_write_result_t;

/* REDIS_DURABILITY (docs/architecture.md, "Durability"). */
enum { GW_DURABILITY_DEFAULT = 0, GW_DURABILITY_STRICT = 1 };

/* Starts the sync thread, which loads the store from Redis (and again whenever it falls
 * behind) and follows the change stream. With GW_DURABILITY_STRICT, first checks that Redis can
 * put a write on disk before its answer (WAITAOF, Redis 7.2+; else appendonly yes and appendfsync
 * always): NULL with a message when Redis answers and cannot (a Redis that does not answer yet is
 * checked once it does; writes are refused until then). */
gw_store_t *gw_store_new(const char *redis_url, const char *prefix, int timeout_ms, int durability,
                         char *err, size_t errlen);
void gw_store_destroy(gw_store_t **s);

/* 1 once the first load is done. Redis: 1 while the sync thread's last call succeeded, 0 when
 * it failed, -1 before the first try. */
int gw_store_loaded(gw_store_t *s);
int gw_store_redis_up(gw_store_t *s);
size_t gw_store_count(gw_store_t *s);

void gw_store_query(gw_store_t *s, const gw_query_t *q, pa_buf_t *out, gw_query_result_t *res);
/* The record's JSON, or NULL when there is none; caller frees. */
char *gw_store_get_json(gw_store_t *s, const char *id, size_t *len);

/* Writes through Redis (one Lua script per record), then waits (bounded) until this gateway's
 * index shows the change, so a client reads its own writes. r is the caller's connection. */
void gw_store_put(gw_store_t *s, pa_redis_t *r, gw_write_mode_t mode, const gw_prospect_in_t *in,
                  gw_write_result_t *res);
void gw_store_del(gw_store_t *s, pa_redis_t *r, const char *id, gw_write_result_t *res);
/* n writes, pipelined; res[i] for in[i]; res[i].json is filled only when want_doc. */
void gw_store_put_many(gw_store_t *s, pa_redis_t *r, gw_write_mode_t mode,
                       const gw_prospect_in_t *in, size_t n, gw_write_result_t *res, int want_doc);
void gw_write_result_free(gw_write_result_t *res);

/* Strict durability: 0 when what connection r wrote so far is on disk (WAITAOF 1 0 on r, or the
 * fsync-always configuration, re-checked every 2 s by the sync thread), -1 when that is not known
 * (why says so). Always 0 without REDIS_DURABILITY=strict. */
int gw_store_durable(gw_store_t *s, pa_redis_t *r, char *why, size_t whylen);
/* Appends ,"durability":{...} (mode, and with strict the method and whether it holds) to b; 1 when
 * the writes are durable as configured. */
int gw_store_durability_json(gw_store_t *s, long replicas, pa_buf_t *b);

#endif
