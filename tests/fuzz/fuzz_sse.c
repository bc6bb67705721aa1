/* libFuzzer target for the Server-Sent Events parser (common/pa_sse.c), fed the same bytes in one
 * piece, byte by byte, and in chunks whose sizes the input chooses.
 *
 * Input: byte 0 holds options (bit 0: report events without data; bit 1: small bounds, 24-byte
 * lines and 40-byte events, so that both bounds are reached often; bit 2: the reader refuses an
 * event whose data starts with 'X'); byte 1 the chunk size (1..64, so boundaries fall anywhere,
 * inside CRLFs and UTF-8 sequences); the rest is the stream. Checks: the three feedings give the
 * same events (type, data, has_data, id, retry), the same outcome (error code) and the same final
 * state (last event id, reconnection time); every event is within the bounds, NUL-terminated, an
 * id holds no NUL byte, an event without data only comes when asked for; a failed parser takes
 * nothing more; after pa_sse_restart the parser takes the stream again; nothing leaks (ASan).
 *
 * Sources: this file, common/pa_sse.c, common/pa_buf.c; flags -Icommon. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_sse.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_sse: check failed: %s: ", #cond);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    pa_sse_t p;
    pa_buf_t log; /* every event, serialized */
    int refuse_x;
    size_t events;
} run_t;

static void put_field(pa_buf_t *b, const char *s, size_t n)
{
    pa_buf_printf(b, "%zu:", n);
    pa_buf_put(b, s, n);
}

static int on_event(void *ud, const pa_sse_event_t *ev)
{
    run_t *r = ud;
    const pa_sse_t *p = &r->p;
    CHECK(ev->type && ev->type_len > 0 && ev->type_len <= p->max_line, "type of %zu bytes",
          ev->type_len);
    CHECK(ev->type[ev->type_len] == '\0', "type not terminated");
    CHECK(ev->data && ev->data_len <= p->max_event, "data of %zu bytes", ev->data_len);
    CHECK(ev->data[ev->data_len] == '\0', "data not terminated");
    CHECK(ev->id && ev->id_len <= p->max_line && strlen(ev->id) == ev->id_len,
          "id of %zu bytes, or with a NUL", ev->id_len);
    size_t il;
    const char *last = pa_sse_last_id(p, &il);
    CHECK(il == ev->id_len && memcmp(last, ev->id, il) == 0, "the event's id is not the last id");
    CHECK(ev->has_data == 0 || ev->has_data == 1, "has_data %d", ev->has_data);
    CHECK(ev->has_data || (p->report_empty && ev->data_len == 0), "an event without data");
    CHECK(ev->retry >= -1, "retry %lld", ev->retry);
    CHECK(ev->retry == -1 || ev->retry == pa_sse_retry(p), "the event's retry is not the last");
    pa_buf_printf(&r->log, "%d|", ev->has_data);
    put_field(&r->log, ev->type, ev->type_len);
    put_field(&r->log, ev->data, ev->data_len);
    put_field(&r->log, ev->id, ev->id_len);
    pa_buf_printf(&r->log, "|%lld\n", ev->retry);
    r->events++;
    if (r->refuse_x && ev->data_len && ev->data[0] == 'X') return -1;
    return 0;
}

/* Feeds body in chunks of step bytes (0: whole); returns the last pa_sse_feed's result. */
static int run(run_t *r, unsigned opts, const uint8_t *body, size_t len, size_t step)
{
    memset(r, 0, sizeof *r);
    size_t max_line = (opts & 2) ? 24 : 0, max_event = (opts & 2) ? 40 : 0;
    pa_sse_init(&r->p, max_line, max_event, on_event, r);
    r->p.report_empty = opts & 1;
    r->refuse_x = (opts & 4) != 0;
    if (!step) step = len ? len : 1;
    int rc = 0;
    for (size_t i = 0; i < len; i += step) {
        rc = pa_sse_feed(&r->p, (const char *)body + i, len - i < step ? len - i : step);
        if (rc < 0) {
            CHECK(r->p.error != PA_SSE_OK && r->p.err[0], "a failure without a reason");
            size_t before = r->events;
            CHECK(pa_sse_feed(&r->p, "data: x\n\n", 9) == -1, "a failed parser took more");
            CHECK(r->events == before, "a failed parser reported an event");
            break;
        }
        CHECK(r->p.error == PA_SSE_OK, "error %d after a success", r->p.error);
    }
    return rc;
}

static void same(const run_t *a, const run_t *b, const char *how)
{
    CHECK(a->p.error == b->p.error, "%s: error %d / %d (%s / %s)", how, a->p.error, b->p.error,
          a->p.err, b->p.err);
    CHECK(a->log.len == b->log.len &&
              (a->log.len == 0 || !memcmp(a->log.data, b->log.data, a->log.len)),
          "%s: the events differ:\n%.*s\n---\n%.*s", how, (int)a->log.len,
          a->log.data ? a->log.data : "", (int)b->log.len, b->log.data ? b->log.data : "");
    size_t la, lb;
    const char *ia = pa_sse_last_id(&a->p, &la), *ib = pa_sse_last_id(&b->p, &lb);
    CHECK(la == lb && memcmp(ia, ib, la) == 0, "%s: the last ids differ", how);
    CHECK(pa_sse_retry(&a->p) == pa_sse_retry(&b->p), "%s: retry %lld / %lld", how,
          pa_sse_retry(&a->p), pa_sse_retry(&b->p));
}

static void done(run_t *r)
{
    pa_sse_free(&r->p);
    pa_buf_free(&r->log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    unsigned opts = data[0];
    size_t step = (size_t)(data[1] % 64) + 1;
    const uint8_t *body = data + 2;
    size_t len = size - 2;

    run_t whole, bytes, chunks;
    int rc = run(&whole, opts, body, len, 0);
    run(&bytes, opts, body, len, 1);
    run(&chunks, opts, body, len, step);
    same(&whole, &bytes, "whole / byte by byte");
    same(&whole, &chunks, "whole / chunks");

    /* a restarted parser (a reconnection) takes the stream again, its ids continuing */
    size_t before = whole.events;
    pa_sse_restart(&whole.p);
    CHECK(whole.p.error == PA_SSE_OK, "a restart kept the error");
    int again = pa_sse_feed(&whole.p, (const char *)body, len);
    CHECK((again == 0) == (rc == 0), "the stream fed again: %d, first %d", again, rc);
    if (rc == 0)
        CHECK(whole.events == 2 * before, "fed again: %zu events, first %zu", whole.events - before,
              before);
    done(&whole);
    done(&bytes);
    done(&chunks);
    return 0;
}
