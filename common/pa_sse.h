/* Server-Sent Events: the one parser of the suite (the llm worker's provider streams, the MCP
 * client's Streamable HTTP and legacy SSE answers).
 *
 * Pure (no I/O) and incremental: fed whatever byte chunks the network gives, so a chunk may end
 * anywhere, even inside a CRLF or a UTF-8 sequence (the parser works on bytes; text is passed on
 * as it came). It follows the WHATWG HTML standard's "event stream interpretation":
 *   - lines end with CRLF, LF or CR (a CRLF split between two chunks is one line end);
 *   - one leading UTF-8 byte order mark (EF BB BF) is dropped; a partial one is text;
 *   - a line starting with ':' is a comment;
 *   - "field:value", one optional space after the colon removed; a line without a colon is a
 *     field with an empty value; unknown fields are ignored;
 *   - "data": the values of one event's data lines joined with "\n";
 *   - "event": the event's type ("message" when none or empty); it does not carry over;
 *   - "id": sets the last event id buffer, unless the value contains a NUL byte (then ignored);
 *     the buffer carries over to later events, "id" with an empty value clears it;
 *   - "retry": the reconnection time in milliseconds, only when the value is all ASCII digits
 *     (at least one; saturating at LLONG_MAX); set as soon as the line arrives;
 *   - a blank line ends the event: the last event id becomes the buffer's value (so an event
 *     without data, e.g. a priming "id: 7" + blank line, still updates it), then the event is
 *     dispatched when it had a data line (even an empty one); an event without data is reported
 *     only when report_empty is set (and it had a field);
 *   - an event not ended by a blank line when the stream ends is dropped (no call is needed at
 *     the end of a stream).
 * Bounds: a line longer than max_line bytes (its end excluded), or data of one event longer than
 * max_event bytes, stop the parser with an error; the type and id are lines, so max_line bounds
 * them too. */
#ifndef PA_SSE_H
#define PA_SSE_H

#include <stddef.h>

#include "pa_buf.h"

/* The bounds used when pa_sse_init is given 0. */
#define PA_SSE_DEFAULT_MAX_LINE (256u * 1024u)
#define PA_SSE_DEFAULT_MAX_EVENT (1024u * 1024u)

/* One event, valid during the callback only. Strings are NUL-terminated at their lengths (data
 * and type may hold NUL bytes; an id never does). */
typedef struct {
    const char *type; /* the event's type, "message" when the stream named none */
    size_t type_len;
    const char *data; /* the data lines joined with "\n" ("" for an empty event) */
    size_t data_len;
    int has_data;   /* 0 only for an event without data (reported with report_empty) */
    const char *id; /* the last event id after this event ("" when none was ever set) */
    size_t id_len;
    long long retry; /* ms, from a valid "retry" field of this event; -1 when it had none */
} pa_sse_event_t;

/* Returns 0 to go on, -1 to stop the parser (pa_sse_feed then fails with PA_SSE_ERR_REFUSED). */
typedef int (*pa_sse_event_fn)(void *ud, const pa_sse_event_t *ev);

typedef enum {
    PA_SSE_OK = 0,
    PA_SSE_ERR_LINE,    /* a line longer than max_line */
    PA_SSE_ERR_EVENT,   /* an event's data longer than max_event */
    PA_SSE_ERR_REFUSED, /* the callback returned -1 */
} pa_sse_err_t;

typedef struct {
    pa_sse_event_fn fn;
    void *ud;
    size_t max_line, max_event;
    int report_empty; /* also report events without data (set it after pa_sse_init) */
    /* state of the current stream */
    pa_buf_t line;         /* a line begun in an earlier chunk */
    pa_buf_t type;         /* the event type buffer */
    pa_buf_t data;         /* the data buffer (lines joined, no trailing "\n") */
    pa_buf_t id_buf;       /* the last event id buffer */
    int have_data;         /* a data field came in the current event */
    int have_field;        /* any field came in the current event */
    long long retry_event; /* a valid "retry" of the current event, or -1 */
    int after_cr;          /* the last byte was a CR (a LF right after it ends nothing more) */
    unsigned bom;          /* bytes of a leading BOM matched so far; 3 once past the start */
    pa_sse_err_t error;
    char err[96]; /* why, once error is set */
    /* kept across pa_sse_restart */
    pa_buf_t last_id; /* the last event id, set at each blank line */
    long long retry;  /* the reconnection time in ms; -1 until a valid "retry" came */
} pa_sse_t;

/* max_line, max_event: 0 for the defaults above. fn may be NULL (only the state is kept). */
void pa_sse_init(pa_sse_t *p, size_t max_line, size_t max_event, pa_sse_event_fn fn, void *ud);
/* 0, or -1 once a bound is passed or fn refused an event (p->error and p->err say why); a failed
 * parser accepts nothing more until pa_sse_restart. */
int pa_sse_feed(pa_sse_t *p, const char *buf, size_t n);
/* For the next stream of the same source (a reconnection): forgets the partial line and event
 * and any error, expects a BOM again; keeps the last event id (the new stream's id buffer starts
 * from it) and the reconnection time. */
void pa_sse_restart(pa_sse_t *p);
/* The last event id ("" when none; never NULL), *len bytes when len is not NULL: the value for
 * a reconnection's Last-Event-ID. */
const char *pa_sse_last_id(const pa_sse_t *p, size_t *len);
/* The reconnection time in ms the stream asked for, or -1 when it sent no valid "retry". */
long long pa_sse_retry(const pa_sse_t *p);
void pa_sse_free(pa_sse_t *p);

#endif
