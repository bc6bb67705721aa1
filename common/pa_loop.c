/* The event loop: epoll for descriptors, a binary min-heap for timers. */
#include "pa_loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "pa_mem.h"
#include "pa_time.h"

#define MAX_EVENTS 256

typedef struct {
    pa_io_fn fn;
    void *ud;
    unsigned events;
    uint32_t gen; /* bumped on every (un)watch: an event of an older watch is ignored */
    int active;
} watch_t;

struct pa_timer {
    uint64_t due;
    uint64_t repeat;
    uint64_t seq; /* ties fire in creation order */
    pa_timer_fn fn;
    void *ud;
    size_t idx; /* position in the heap, or SIZE_MAX while out of it */
    int firing, stopped;
};

struct pa_loop {
    int ep;
    watch_t *w; /* indexed by fd */
    size_t nw;
    unsigned nwatched;
    pa_timer_t **heap;
    size_t nheap, capheap;
    uint64_t now, seq;
};

static int timer_less(const pa_timer_t *a, const pa_timer_t *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(pa_loop_t *l, size_t i, pa_timer_t *t)
{
    l->heap[i] = t;
    t->idx = i;
}

static void sift_up(pa_loop_t *l, size_t i)
{
    pa_timer_t *t = l->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!timer_less(t, l->heap[p])) break;
        heap_set(l, i, l->heap[p]);
        i = p;
    }
    heap_set(l, i, t);
}

static void sift_down(pa_loop_t *l, size_t i)
{
    pa_timer_t *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap) break;
        if (c + 1 < l->nheap && timer_less(l->heap[c + 1], l->heap[c])) c++;
        if (!timer_less(l->heap[c], t)) break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

static void heap_push(pa_loop_t *l, pa_timer_t *t)
{
    if (l->nheap == l->capheap) {
        l->capheap = l->capheap ? 2 * l->capheap : 16;
        l->heap = pa_realloc(l->heap, l->capheap * sizeof *l->heap);
    }
    heap_set(l, l->nheap++, t);
    sift_up(l, t->idx);
}

static void heap_remove(pa_loop_t *l, pa_timer_t *t)
{
    size_t i = t->idx;
    if (i == SIZE_MAX) return;
    t->idx = SIZE_MAX;
    pa_timer_t *last = l->heap[--l->nheap];
    if (i == l->nheap) return;
    heap_set(l, i, last);
    sift_up(l, i);
    sift_down(l, last->idx);
}

pa_loop_t *pa_loop_new(char *err, size_t errlen)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        if (err) snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        return NULL;
    }
    pa_loop_t *l = pa_calloc(1, sizeof *l);
    l->ep = ep;
    l->now = pa_mono_ms();
    return l;
}

void pa_loop_destroy(pa_loop_t **lp)
{
    pa_loop_t *l = *lp;
    if (!l) return;
    for (size_t i = 0; i < l->nheap; i++) free(l->heap[i]);
    free(l->heap);
    free(l->w);
    close(l->ep);
    free(l);
    *lp = NULL;
}

static uint32_t ep_events(unsigned events)
{
    return ((events & PA_IO_READ) ? EPOLLIN : 0u) | ((events & PA_IO_WRITE) ? EPOLLOUT : 0u);
}

int pa_loop_watch(pa_loop_t *l, int fd, unsigned events, pa_io_fn fn, void *ud)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= l->nw) {
        size_t n = l->nw ? l->nw : 64;
        while (n <= (size_t)fd) n *= 2;
        l->w = pa_realloc(l->w, n * sizeof *l->w);
        memset(l->w + l->nw, 0, (n - l->nw) * sizeof *l->w);
        l->nw = n;
    }
    watch_t *w = &l->w[fd];
    struct epoll_event ev = {.events = ep_events(events)};
    w->gen++;
    ev.data.u64 = ((uint64_t)w->gen << 32) | (uint32_t)fd;
    if (epoll_ctl(l->ep, w->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* the fd was closed and reused behind our back: register it afresh */
        if (!(w->active && errno == ENOENT && epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == 0))
            return -1;
    }
    if (!w->active) l->nwatched++;
    w->fn = fn, w->ud = ud, w->events = events, w->active = 1;
    return 0;
}

void pa_loop_unwatch(pa_loop_t *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nw || !l->w[fd].active) return;
    watch_t *w = &l->w[fd];
    epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL); /* fails harmlessly when fd was closed already */
    w->active = 0;
    w->gen++;
    w->fn = NULL, w->ud = NULL;
    l->nwatched--;
}

unsigned pa_loop_watched(const pa_loop_t *l)
{
    return l->nwatched;
}

pa_timer_t *pa_loop_timer(pa_loop_t *l, uint64_t after_ms, uint64_t repeat_ms, pa_timer_fn fn,
                          void *ud)
{
    pa_timer_t *t = pa_calloc(1, sizeof *t);
    t->due = l->now + after_ms;
    t->repeat = repeat_ms;
    t->seq = l->seq++;
    t->fn = fn, t->ud = ud;
    heap_push(l, t);
    return t;
}

void pa_loop_timer_stop(pa_loop_t *l, pa_timer_t **tp)
{
    pa_timer_t *t = *tp;
    if (!t) return;
    *tp = NULL;
    heap_remove(l, t);
    if (t->firing) t->stopped = 1; /* freed when its callback returns */
    else free(t);
}

void pa_loop_timer_again(pa_loop_t *l, pa_timer_t *t, uint64_t after_ms)
{
    heap_remove(l, t);
    t->due = l->now + after_ms;
    t->seq = l->seq++;
    if (!t->stopped) heap_push(l, t);
}

uint64_t pa_loop_now(const pa_loop_t *l)
{
    return l->now;
}

uint64_t pa_loop_update(pa_loop_t *l)
{
    return l->now = pa_mono_ms();
}

long pa_loop_next_timeout(const pa_loop_t *l)
{
    if (!l->nheap) return -1;
    uint64_t due = l->heap[0]->due;
    return due <= l->now ? 0 : (long)(due - l->now);
}

static int run_timers(pa_loop_t *l)
{
    int ran = 0;
    uint64_t seq_limit = l->seq; /* timers armed by these callbacks wait for the next turn */
    while (l->nheap && l->heap[0]->due <= l->now && l->heap[0]->seq < seq_limit) {
        pa_timer_t *t = l->heap[0];
        heap_remove(l, t);
        if (t->repeat) {
            t->due = (t->due + t->repeat > l->now) ? t->due + t->repeat : l->now + t->repeat;
            t->seq = l->seq++;
            heap_push(l, t);
        }
        t->firing = 1;
        t->fn(l, t, t->ud);
        t->firing = 0;
        ran++;
        if (t->stopped) free(t);
        else if (!t->repeat && t->idx == SIZE_MAX) free(t); /* one-shot, not re-armed */
    }
    return ran;
}

int pa_loop_run_once(pa_loop_t *l, long max_wait_ms)
{
    long wait = pa_loop_next_timeout(l);
    if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms)) wait = max_wait_ms;
    if (wait > 0x7fffffffL) wait = 0x7fffffffL;
    struct epoll_event ev[MAX_EVENTS];
    int n = epoll_wait(l->ep, ev, MAX_EVENTS, (int)wait);
    int err = errno;
    pa_loop_update(l);
    if (n < 0) {
        if (err != EINTR) return -1;
        n = 0;
    }
    int ran = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)ev[i].data.u64;
        uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
        if ((size_t)fd >= l->nw) continue;
        watch_t *w = &l->w[fd];
        if (!w->active || w->gen != gen) continue; /* removed or replaced this turn */
        unsigned e = ((ev[i].events & EPOLLIN) ? PA_IO_READ : 0u) |
                     ((ev[i].events & EPOLLOUT) ? PA_IO_WRITE : 0u) |
                     ((ev[i].events & (EPOLLERR | EPOLLHUP)) ? PA_IO_ERROR : 0u);
        w->fn(l, fd, e, w->ud);
        ran++;
    }
    return ran + run_timers(l);
}
