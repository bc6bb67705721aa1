/* Server-Sent Events parser (pa_sse.h). */
#include "pa_sse.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};

void pa_sse_init(pa_sse_t *p, size_t max_line, size_t max_event, pa_sse_event_fn fn, void *ud)
{
    memset(p, 0, sizeof *p);
    p->fn = fn;
    p->ud = ud;
    p->max_line = max_line ? max_line : PA_SSE_DEFAULT_MAX_LINE;
    p->max_event = max_event ? max_event : PA_SSE_DEFAULT_MAX_EVENT;
    p->retry_event = -1;
    p->retry = -1;
}

void pa_sse_free(pa_sse_t *p)
{
    pa_buf_free(&p->line);
    pa_buf_free(&p->type);
    pa_buf_free(&p->data);
    pa_buf_free(&p->id_buf);
    pa_buf_free(&p->last_id);
}

void pa_sse_restart(pa_sse_t *p)
{
    pa_buf_reset(&p->line);
    pa_buf_reset(&p->type);
    pa_buf_reset(&p->data);
    pa_buf_reset(&p->id_buf);
    if (p->last_id.len) pa_buf_put(&p->id_buf, p->last_id.data, p->last_id.len);
    p->have_data = p->have_field = 0;
    p->retry_event = -1;
    p->after_cr = 0;
    p->bom = 0;
    p->error = PA_SSE_OK;
    p->err[0] = '\0';
}

const char *pa_sse_last_id(const pa_sse_t *p, size_t *len)
{
    if (len) *len = p->last_id.len;
    return p->last_id.len ? p->last_id.data : "";
}

long long pa_sse_retry(const pa_sse_t *p)
{
    return p->retry;
}

static int fail(pa_sse_t *p, pa_sse_err_t e, const char *why)
{
    p->error = e;
    snprintf(p->err, sizeof p->err, "%s", why);
    return -1;
}

static const char *text(const pa_buf_t *b)
{
    return b->len ? b->data : "";
}

/* A blank line: the end of an event. */
static int dispatch(pa_sse_t *p)
{
    pa_buf_reset(&p->last_id);
    if (p->id_buf.len) pa_buf_put(&p->last_id, p->id_buf.data, p->id_buf.len);
    int rc = 0;
    if (p->fn && (p->have_data || (p->report_empty && p->have_field))) {
        pa_sse_event_t ev = {
            .type = p->type.len ? p->type.data : "message",
            .type_len = p->type.len ? p->type.len : 7,
            .data = text(&p->data),
            .data_len = p->data.len,
            .has_data = p->have_data,
            .id = text(&p->last_id),
            .id_len = p->last_id.len,
            .retry = p->retry_event,
        };
        rc = p->fn(p->ud, &ev);
    }
    pa_buf_reset(&p->type);
    pa_buf_reset(&p->data);
    p->have_data = p->have_field = 0;
    p->retry_event = -1;
    return rc < 0 ? fail(p, PA_SSE_ERR_REFUSED, "the stream's reader refused an event") : 0;
}

/* "retry": all ASCII digits (at least one), or ignored. */
static void retry_field(pa_sse_t *p, const char *v, size_t n)
{
    if (n == 0) return;
    long long ms = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return;
        int d = v[i] - '0';
        ms = ms > (LLONG_MAX - d) / 10 ? LLONG_MAX : ms * 10 + d;
    }
    p->retry = p->retry_event = ms;
}

/* One complete line (without its end). */
static int line(pa_sse_t *p, const char *s, size_t n)
{
    if (n == 0) return dispatch(p);
    if (s[0] == ':') return 0; /* a comment */
    const char *colon = memchr(s, ':', n);
    size_t fl = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    if (colon && v < s + n && *v == ' ') v++;
    size_t vl = (size_t)(s + n - v);
    if (fl == 4 && memcmp(s, "data", 4) == 0) {
        size_t sep = p->have_data ? 1 : 0;
        if (p->data.len + sep + vl > p->max_event)
            return fail(p, PA_SSE_ERR_EVENT, "an event's data is too long");
        if (sep) pa_buf_putc(&p->data, '\n');
        pa_buf_put(&p->data, v, vl);
        p->have_data = 1;
    } else if (fl == 5 && memcmp(s, "event", 5) == 0) {
        pa_buf_reset(&p->type);
        pa_buf_put(&p->type, v, vl);
    } else if (fl == 2 && memcmp(s, "id", 2) == 0) {
        if (!memchr(v, '\0', vl)) {
            pa_buf_reset(&p->id_buf);
            pa_buf_put(&p->id_buf, v, vl);
        }
    } else if (fl == 5 && memcmp(s, "retry", 5) == 0) {
        retry_field(p, v, vl);
    } else {
        return 0; /* an unknown field */
    }
    p->have_field = 1;
    return 0;
}

int pa_sse_feed(pa_sse_t *p, const char *buf, size_t n)
{
    if (p->error) return -1;
    size_t i = 0;
    while (p->bom < 3 && i < n) { /* a leading byte order mark, possibly split over chunks */
        if ((unsigned char)buf[i] == bom[p->bom]) {
            p->bom++;
            i++;
            continue;
        }
        pa_buf_put(&p->line, bom, p->bom); /* not a BOM after all: those bytes are text */
        p->bom = 3;
    }
    while (i < n) {
        if (buf[i] == '\n' && p->after_cr) { /* the LF of a CRLF whose CR ended the line */
            p->after_cr = 0;
            i++;
            continue;
        }
        p->after_cr = 0;
        /* the rest of a line in this chunk */
        size_t j = i;
        while (j < n && buf[j] != '\n' && buf[j] != '\r') j++;
        if (p->line.len + (j - i) > p->max_line)
            return fail(p, PA_SSE_ERR_LINE, "a stream line is too long");
        if (j == n) {
            pa_buf_put(&p->line, buf + i, j - i);
            break;
        }
        const char *s = buf + i;
        size_t len = j - i;
        if (p->line.len) { /* the line began in an earlier chunk */
            pa_buf_put(&p->line, buf + i, j - i);
            s = p->line.data;
            len = p->line.len;
        }
        int rc = line(p, s, len);
        pa_buf_reset(&p->line);
        if (rc < 0) return -1;
        p->after_cr = buf[j] == '\r';
        i = j + 1;
    }
    return 0;
}
