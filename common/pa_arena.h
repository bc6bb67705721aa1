/* Per-task memory: an arena of blocks plus a list of cleanups, released together. Everything a
 * task allocates through its arena (parser state, JSON trees, curl handles by a cleanup) is freed
 * when the task ends, on every path, like nginx's request pools. */
#ifndef PA_ARENA_H
#define PA_ARENA_H
#include <stddef.h>

typedef struct pa_arena pa_arena_t;
typedef void (*pa_cleanup_fn)(void *p);

pa_arena_t *pa_arena_new(void);
/* Runs the cleanups (last added first), frees every block and the arena; sets *a to NULL. */
void pa_arena_destroy(pa_arena_t **a);

/* n bytes aligned for any type, zeroed; lives until the arena is destroyed. Never NULL (out of
 * memory aborts, as pa_malloc does). */
void *pa_arena_alloc(pa_arena_t *a, size_t n);
char *pa_arena_strdup(pa_arena_t *a, const char *s);
char *pa_arena_strndup(pa_arena_t *a, const char *s, size_t n);
/* fn(p) runs when the arena is destroyed (e.g. json_decref, curl_easy_cleanup, free). */
void pa_arena_defer(pa_arena_t *a, pa_cleanup_fn fn, void *p);
/* Bytes handed out so far (for tests and limits). */
size_t pa_arena_used(const pa_arena_t *a);

#endif
