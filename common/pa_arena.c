/* Per-task memory: bump allocation from blocks, cleanups in a list. */
#include "pa_arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pa_mem.h"

/* The first block is small (most tasks need little, and a 4 KiB block per task made glibc
 * consolidate its free lists on every allocation in the worker benchmarks); later ones 4 KiB. */
#define FIRST_BLOCK_SIZE 768
#define BLOCK_SIZE 4096
#define ALIGN alignof(max_align_t)

typedef struct block {
    struct block *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
} block_t;

typedef struct cleanup {
    struct cleanup *next;
    pa_cleanup_fn fn;
    void *p;
} cleanup_t;

struct pa_arena {
    block_t *blocks;
    cleanup_t *cleanups;
    size_t used;
};

pa_arena_t *pa_arena_new(void)
{
    return pa_calloc(1, sizeof(pa_arena_t));
}

void pa_arena_destroy(pa_arena_t **ap)
{
    pa_arena_t *a = *ap;
    if (!a) return;
    /* cleanups may use arena memory, so they run before the blocks go */
    while (a->cleanups) {
        cleanup_t *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->p);
    }
    for (block_t *b = a->blocks, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(a);
    *ap = NULL;
}

void *pa_arena_alloc(pa_arena_t *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (need < n) abort(); /* overflow */
    block_t *b = a->blocks;
    if (!b || b->cap - b->used < need) {
        size_t step = a->blocks ? BLOCK_SIZE : FIRST_BLOCK_SIZE;
        size_t cap = need > step / 2 ? need : step;
        b = pa_malloc(sizeof *b + cap);
        b->used = 0, b->cap = cap;
        if (need > step / 2 && a->blocks) {
            /* a large piece gets a block of its own behind the current one, which stays open */
            b->next = a->blocks->next;
            a->blocks->next = b;
        } else {
            b->next = a->blocks;
            a->blocks = b;
        }
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *pa_arena_strndup(pa_arena_t *a, const char *s, size_t n)
{
    n = strnlen(s, n);
    char *p = pa_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    return p;
}

char *pa_arena_strdup(pa_arena_t *a, const char *s)
{
    return pa_arena_strndup(a, s, SIZE_MAX);
}

void pa_arena_defer(pa_arena_t *a, pa_cleanup_fn fn, void *p)
{
    cleanup_t *c = pa_arena_alloc(a, sizeof *c);
    c->fn = fn, c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t pa_arena_used(const pa_arena_t *a)
{
    return a->used;
}
