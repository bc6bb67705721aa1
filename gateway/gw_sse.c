/* Server-Sent Events plumbing; see gw_sse.h. */
#include "gw_sse.h"

#include <string.h>

void gw_sleeper_wake(gw_sleeper_t *s)
{
    if (s->state == GW_SLEEPER_SUSPENDED) {
        s->state = GW_SLEEPER_RUNNING;
        gw_conn_resume(s->conn);
    } else if (s->state == GW_SLEEPER_SUSPENDING) {
        s->pending = 1;
    }
}

void gw_sleeper_sleep(gw_sleeper_t *s, pthread_mutex_t *lock)
{
    s->state = GW_SLEEPER_SUSPENDING;
    pthread_mutex_unlock(lock);
    gw_conn_suspend(s->conn);
    pthread_mutex_lock(lock);
    if (s->pending) { /* woken while the suspension was under way */
        s->pending = 0;
        s->state = GW_SLEEPER_RUNNING;
        gw_conn_resume(s->conn);
    } else {
        s->state = GW_SLEEPER_SUSPENDED;
    }
}

size_t gw_sse_take(pa_buf_t *out, size_t *off, char *buf, size_t max)
{
    if (*off >= out->len) return 0;
    size_t n = out->len - *off < max ? out->len - *off : max;
    memcpy(buf, out->data + *off, n);
    *off += n;
    if (*off == out->len) pa_buf_reset(out), *off = 0;
    return n;
}

int gw_sse_idle(gw_sleeper_t *sl, int *ka, pa_buf_t *out, pthread_mutex_t *lock)
{
    if (*ka) { /* a keep-alive comment, so that a client that went away is noticed */
        *ka = 0;
        sl->pending = 0;
        pthread_mutex_unlock(lock);
        pa_buf_puts(out, ": keep-alive\n\n");
        return 1;
    }
    gw_sleeper_sleep(sl, lock);
    pthread_mutex_unlock(lock);
    return 0;
}

void gw_sse_respond(gw_req_t *r, gw_sleeper_t *sl, gw_stream_read_fn read, void *cls,
                    void (*free_fn)(void *cls))
{
    sl->conn = r->conn;
    gw_reply_stream(r, 200, "text/event-stream", read, cls, free_fn);
    gw_header(r, "Cache-Control", "no-cache");
    gw_header(r, "X-Accel-Buffering", "no");
}
