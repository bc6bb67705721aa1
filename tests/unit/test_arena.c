/* pa_arena: allocations are zeroed and aligned, large pieces work, cleanups run last-first. */
#include <criterion/criterion.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "pa_arena.h"

static char log_[16];
static void note(void *p)
{
    strncat(log_, (const char *)p, sizeof log_ - strlen(log_) - 1);
}

Test(arena, allocations_are_zeroed_aligned_and_distinct)
{
    pa_arena_t *a = pa_arena_new();
    unsigned char *prev = NULL;
    for (int i = 1; i < 3000; i += 7) {
        unsigned char *p = pa_arena_alloc(a, (size_t)i);
        cr_assert_eq((uintptr_t)p % alignof(max_align_t), 0);
        for (int k = 0; k < i; k++) cr_assert_eq(p[k], 0);
        memset(p, 0xab, (size_t)i);
        cr_assert_neq(p, prev);
        prev = p;
    }
    unsigned char *big = pa_arena_alloc(a, 1 << 20);
    big[(1 << 20) - 1] = 1;
    cr_assert_geq(pa_arena_used(a), (size_t)1 << 20);
    char *s = pa_arena_strndup(a, "hello world", 5);
    cr_assert_str_eq(s, "hello");
    cr_assert_str_eq(pa_arena_strdup(a, "x"), "x");
    pa_arena_destroy(&a);
    cr_assert_null(a);
}

Test(arena, cleanups_run_once_last_added_first)
{
    log_[0] = '\0';
    pa_arena_t *a = pa_arena_new();
    pa_arena_defer(a, note, "a");
    pa_arena_defer(a, note, "b");
    pa_arena_defer(a, note, pa_arena_strdup(a, "c")); /* arena memory is still valid then */
    cr_assert_str_eq(log_, "");
    pa_arena_destroy(&a);
    cr_assert_str_eq(log_, "cba");
    pa_arena_destroy(&a); /* NULL: no-op */
}
