/* pa_id: 26-character lowercase Crockford base32 ULIDs that sort in creation order. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pa_id.h"

static const char ALPHABET[] = "0123456789abcdefghjkmnpqrstvwxyz"; /* no i l o u */

static int digit(char c)
{
    const char *p = strchr(ALPHABET, c);
    return (p && c) ? (int)(p - ALPHABET) : -1;
}

static void assert_well_formed(const char *id)
{
    cr_assert_eq(strlen(id), PA_ID_LEN, "id \"%s\" is not %d characters", id, PA_ID_LEN);
    for (int i = 0; i < PA_ID_LEN; i++)
        cr_assert_geq(digit(id[i]), 0, "id \"%s\" has '%c' outside the Crockford alphabet", id,
                      id[i]);
    /* 26 digits carry 130 bits, the first digit only the top 3 of 128. */
    cr_assert_leq(digit(id[0]), 7, "id \"%s\" overflows 128 bits", id);
}

/* The 48-bit millisecond timestamp in the first 10 digits. */
static uint64_t id_ms(const char *id)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) v = (v << 5) | (uint64_t)digit(id[i]);
    return v;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

Test(id, shape_and_alphabet)
{
    char id[PA_ID_LEN + 1];
    memset(id, '#', sizeof id);
    pa_id_new(id);
    cr_assert_eq(id[PA_ID_LEN], '\0', "id is not NUL-terminated");
    assert_well_formed(id);
}

Test(id, timestamp_prefix_is_the_current_time)
{
    uint64_t before = wall_ms();
    char id[PA_ID_LEN + 1];
    pa_id_new(id);
    uint64_t after = wall_ms();
    uint64_t ms = id_ms(id);
    cr_assert(ms >= before && ms <= after + 1, "id %s encodes %llu ms, now is %llu..%llu", id,
              (unsigned long long)ms, (unsigned long long)before, (unsigned long long)after);
}

Test(id, ten_thousand_strictly_increasing_and_unique)
{
    enum { N = 10000 };
    char(*ids)[PA_ID_LEN + 1] = malloc(sizeof *ids * N);
    for (int i = 0; i < N; i++) pa_id_new(ids[i]);
    for (int i = 0; i < N; i++) {
        assert_well_formed(ids[i]);
        if (i)
            cr_assert_lt(strcmp(ids[i - 1], ids[i]), 0, "id %d (%s) does not sort after %s", i,
                         ids[i], ids[i - 1]);
    }
    /* strictly increasing implies unique; check it independently anyway */
    qsort(ids, N, sizeof *ids, cmp_id);
    for (int i = 1; i < N; i++)
        cr_assert_neq(strcmp(ids[i - 1], ids[i]), 0, "duplicate id %s", ids[i]);
    free(ids);
}

Test(id, random_part_differs_between_milliseconds)
{
    /* Two ids from different milliseconds must not share the 80 random bits (which would mean a
     * fixed or unseeded generator). */
    char a[PA_ID_LEN + 1], b[PA_ID_LEN + 1];
    pa_id_new(a);
    struct timespec ts = {0, 3 * 1000000L};
    nanosleep(&ts, NULL);
    pa_id_new(b);
    cr_assert_lt(strcmp(a, b), 0);
    cr_assert_lt(id_ms(a), id_ms(b));
    cr_assert_neq(strcmp(a + 10, b + 10), 0, "random parts equal: %s %s", a, b);
}

#define THREADS 4
#define PER_THREAD 2500

static char thread_ids[THREADS][PER_THREAD][PA_ID_LEN + 1];

static void *make_ids(void *p)
{
    int t = (int)(intptr_t)p;
    for (int i = 0; i < PER_THREAD; i++) pa_id_new(thread_ids[t][i]);
    return NULL;
}

Test(id, unique_and_ordered_per_thread_across_threads)
{
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, make_ids, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++)
        for (int i = 1; i < PER_THREAD; i++)
            cr_assert_lt(strcmp(thread_ids[t][i - 1], thread_ids[t][i]), 0,
                         "thread %d: ids out of order", t);
    char(*all)[PA_ID_LEN + 1] = malloc(sizeof *all * THREADS * PER_THREAD);
    memcpy(all, thread_ids, sizeof thread_ids);
    qsort(all, THREADS * PER_THREAD, sizeof *all, cmp_id);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        cr_assert_neq(strcmp(all[i - 1], all[i]), 0, "duplicate id %s across threads", all[i]);
    free(all);
}
