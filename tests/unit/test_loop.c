/* pa_loop: descriptors beyond poll's old 256, timers in order, removal inside callbacks. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pa_loop.h"
#include "pa_time.h"

static pa_loop_t *new_loop(void)
{
    char err[128];
    pa_loop_t *l = pa_loop_new(err, sizeof err);
    cr_assert_not_null(l, "%s", err);
    return l;
}

static void count_read(pa_loop_t *l, int fd, unsigned ev, void *ud)
{
    (void)l;
    cr_assert(ev & PA_IO_READ);
    char c;
    cr_assert_eq(read(fd, &c, 1), 1);
    (*(int *)ud)++;
}

Test(loop, two_thousand_pipes_are_watched_and_each_read_once)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4200 && rl.rlim_max >= 4200) {
        rl.rlim_cur = 4200;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    int n = rl.rlim_cur >= 4200 ? 2000 : (int)(rl.rlim_cur - 64) / 2;
    cr_assert_gt(n, 256, "the test needs more than 256 descriptors");
    pa_loop_t *l = new_loop();
    int(*p)[2] = calloc((size_t)n, sizeof *p);
    int hits = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_eq(pipe2(p[i], O_CLOEXEC | O_NONBLOCK), 0);
        cr_assert_eq(pa_loop_watch(l, p[i][0], PA_IO_READ, count_read, &hits), 0);
    }
    cr_assert_eq(pa_loop_watched(l), (unsigned)n);
    for (int i = 0; i < n; i++) cr_assert_eq(write(p[i][1], "x", 1), 1);
    for (int turns = 0; hits < n && turns < 100; turns++) pa_loop_run_once(l, 100);
    cr_assert_eq(hits, n);
    /* nothing left to read: a turn runs nothing */
    cr_assert_eq(pa_loop_run_once(l, 0), 0);
    for (int i = 0; i < n; i++) {
        pa_loop_unwatch(l, p[i][0]);
        close(p[i][0]);
        close(p[i][1]);
    }
    cr_assert_eq(pa_loop_watched(l), 0);
    free(p);
    pa_loop_destroy(&l);
    cr_assert_null(l);
}

typedef struct {
    int order[8];
    int n;
    pa_timer_t *victim;
    pa_timer_t *self;
} rec_t;

static rec_t *R;
static void tagged(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)l, (void)t;
    R->order[R->n++] = (int)(intptr_t)ud;
}

Test(loop, timers_fire_in_due_order_and_one_shots_once)
{
    pa_loop_t *l = new_loop();
    rec_t r = {0};
    R = &r;
    pa_loop_timer(l, 30, 0, tagged, (void *)(intptr_t)3);
    pa_loop_timer(l, 10, 0, tagged, (void *)(intptr_t)1);
    pa_loop_timer(l, 20, 0, tagged, (void *)(intptr_t)2);
    pa_loop_timer(l, 10, 0, tagged, (void *)(intptr_t)11); /* same due: creation order */
    uint64_t start = pa_mono_ms();
    while (r.n < 4 && pa_mono_ms() - start < 2000) pa_loop_run_once(l, -1);
    cr_assert_eq(r.n, 4);
    cr_assert_eq(r.order[0], 1);
    cr_assert_eq(r.order[1], 11);
    cr_assert_eq(r.order[2], 2);
    cr_assert_eq(r.order[3], 3);
    cr_assert_eq(pa_loop_next_timeout(l), -1, "one-shot timers are gone after firing");
    pa_loop_destroy(&l);
}

static void stop_victim(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)t;
    rec_t *r = ud;
    r->order[r->n++] = 1;
    pa_loop_timer_stop(l, &r->victim);
}
static void victim(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    (void)l, (void)t;
    ((rec_t *)ud)->order[((rec_t *)ud)->n++] = 99;
}

Test(loop, a_timer_stopped_by_an_earlier_one_in_the_same_turn_never_fires)
{
    pa_loop_t *l = new_loop();
    rec_t r = {0};
    pa_loop_timer(l, 5, 0, stop_victim, &r);
    r.victim = pa_loop_timer(l, 5, 0, victim, &r);
    pa_sleep_ms(10);
    pa_loop_run_once(l, 0);
    pa_loop_run_once(l, 0);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.order[0], 1);
    cr_assert_null(r.victim);
    pa_loop_destroy(&l);
}

static void repeat_then_stop(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    rec_t *r = ud;
    r->n++;
    if (r->n == 3) pa_loop_timer_stop(l, &r->self);
    (void)t;
}

Test(loop, a_repeating_timer_repeats_until_it_stops_itself)
{
    pa_loop_t *l = new_loop();
    rec_t r = {0};
    r.self = pa_loop_timer(l, 1, 2, repeat_then_stop, &r);
    uint64_t start = pa_mono_ms();
    while (pa_mono_ms() - start < 100) pa_loop_run_once(l, 5);
    cr_assert_eq(r.n, 3);
    cr_assert_null(r.self);
    cr_assert_eq(pa_loop_next_timeout(l), -1);
    pa_loop_destroy(&l);
}

static void rearm_zero(pa_loop_t *l, pa_timer_t *t, void *ud)
{
    int *n = ud;
    if (++*n < 1000) pa_loop_timer_again(l, t, 0);
}

Test(loop, a_timer_rearmed_for_now_waits_for_the_next_turn)
{
    pa_loop_t *l = new_loop();
    int n = 0;
    pa_loop_timer(l, 0, 0, rearm_zero, &n);
    pa_loop_run_once(l, 0);
    cr_assert_eq(n, 1, "re-armed at 0 ms, it must not run again in the same turn");
    pa_loop_run_once(l, 0);
    cr_assert_eq(n, 2);
    pa_loop_destroy(&l); /* frees the pending timer */
}

typedef struct {
    int fds[2][2];
    int calls;
} pair_t;

static void unwatch_other(pa_loop_t *l, int fd, unsigned ev, void *ud)
{
    (void)ev;
    pair_t *p = ud;
    p->calls++;
    int other = fd == p->fds[0][0] ? p->fds[1][0] : p->fds[0][0];
    pa_loop_unwatch(l, other);
    pa_loop_unwatch(l, fd);
}

Test(loop, a_descriptor_unwatched_in_an_earlier_callback_of_the_turn_is_not_called)
{
    pa_loop_t *l = new_loop();
    pair_t p = {0};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(pipe2(p.fds[i], O_CLOEXEC | O_NONBLOCK), 0);
        pa_loop_watch(l, p.fds[i][0], PA_IO_READ, unwatch_other, &p);
        cr_assert_eq(write(p.fds[i][1], "x", 1), 1);
    }
    pa_loop_run_once(l, 100);
    cr_assert_eq(p.calls, 1);
    for (int i = 0; i < 2; i++) close(p.fds[i][0]), close(p.fds[i][1]);
    pa_loop_destroy(&l);
}

static void note_hup(pa_loop_t *l, int fd, unsigned ev, void *ud)
{
    (void)l, (void)fd;
    *(unsigned *)ud |= ev;
}

Test(loop, a_closed_peer_is_reported)
{
    pa_loop_t *l = new_loop();
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    unsigned seen = 0;
    pa_loop_watch(l, p[0], PA_IO_READ, note_hup, &seen);
    close(p[1]);
    pa_loop_run_once(l, 100);
    cr_assert(seen & (PA_IO_READ | PA_IO_ERROR));
    pa_loop_unwatch(l, p[0]);
    close(p[0]);
    pa_loop_destroy(&l);
}
