/* Input validation for the API's handlers: each check either passes or answers the request with
 * a 400 RFC 9457 problem (type invalid-field) that names the field and says what is wrong.
 *
 * A gw_valid_t carries the request and whether a check already failed. Once one has, every later
 * check does nothing and fails too, so a handler runs its checks one after another and tests
 * v.failed once at the end of a step; only the first problem is answered. */
#ifndef GW_VALID_H
#define GW_VALID_H
#include <jansson.h>
#include <stddef.h>

#include "gw_text.h"

typedef struct gw_req gw_req_t;

typedef struct {
    gw_req_t *r;
    int failed;
} gw_valid_t;

#define GW_VALID(req) ((gw_valid_t){(req), 0})

/* Answers 400 invalid-field for field (may be NULL) with the formatted detail; returns -1. */
int gw_valid_fail(gw_valid_t *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* o must be an object (what names it in the message, e.g. "a JSON object {prompt, params?}"). */
int gw_valid_object(gw_valid_t *v, const json_t *o, const char *path, const char *what);
/* Every member of o is one of allowed (NULL-terminated); where prefixes the field ("sender"). */
int gw_valid_only(gw_valid_t *v, const json_t *o, const char *where, const char *const *allowed);
/* A string member of UTF-8 without NUL of min..max characters (code points). NULL when absent
 * or null (a failure when min > 0: "is required") or when it is wrong. */
const char *gw_valid_str(gw_valid_t *v, const json_t *o, const char *name, const char *path,
                         size_t min, size_t max);
/* A boolean member, def when absent. */
int gw_valid_bool(gw_valid_t *v, const json_t *o, const char *name, const char *path, int def);
/* An id (gw_id_valid) held by a string member; NULL when absent or null. */
const char *gw_valid_id(gw_valid_t *v, const json_t *o, const char *name, const char *path);
/* Template variables: an object of at most 50 names (1 to 64 of A-Z a-z 0-9 _ .) to strings of
 * at most 2000 bytes of UTF-8, numbers or booleans. */
int gw_valid_variables(gw_valid_t *v, const json_t *vars, const char *path);
/* LLM parameters passed to the provider: temperature 0..2, top_p 0..1, max_tokens 1..100000,
 * stop (a string or 1 to 4 strings), seed (an integer); nothing else. */
int gw_valid_llm_params(gw_valid_t *v, const json_t *p, const char *path);
/* A sender {name, email, company?, phone?, title?, website?}. */
int gw_valid_sender(gw_valid_t *v, const json_t *s, const char *path);
/* The query parameter limit: an integer 1..max; def when absent. */
int gw_valid_limit(gw_valid_t *v, const char *s, size_t def, size_t max, size_t *out);

/* A task's id in the API, "<job id>-<task number>" (hand-offs, dead letters), and its Redis task
 * key "J:T": the key of an id of n bytes (0, or -1 when it is not one), and the id of a key. */
#define GW_TASK_KEY_MAX 128
int gw_task_key_of(const char *id, size_t n, char tk[GW_TASK_KEY_MAX]);
void gw_task_id_of(const char *tk, char *out, size_t cap);

#endif
