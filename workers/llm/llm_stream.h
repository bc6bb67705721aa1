/* Streamed answers of the LLM providers, read as they arrive (the generate stage with
 * "stream": true).
 *
 * Two layers, both pure (no I/O, no libcurl) and fed with whatever byte chunks the network
 * gives, so a chunk may end anywhere, even inside a CRLF or a UTF-8 sequence:
 *
 *   llm_sse_*     Server-Sent Events framing as the WHATWG HTML standard defines it ("event
 *                 stream interpretation"): lines end with CRLF, LF or CR; a leading BOM is
 *                 dropped; ':' starts a comment; "field: value" with one optional space;
 *                 "data" lines of one event are joined with "\n"; a blank line dispatches the
 *                 event (none when it has no data); "id" and "retry" are ignored; an event not
 *                 closed by a blank line when the stream ends is dropped. A line, and the data of
 *                 one event, longer than max_line bytes stop the parser with an error.
 *   llm_stream_*  the events of OpenAI chat-completion chunks ("data: {...}" ... "data: [DONE]",
 *                 usage in the last chunk with stream_options.include_usage) and of Anthropic
 *                 Messages streams (message_start, content_block_start/delta/stop,
 *                 message_delta, message_stop, ping, error): the text so far, the model, the
 *                 token usage, and at the end one classification like llm_parse_answer's. */
#ifndef LLM_STREAM_H
#define LLM_STREAM_H

#include <stddef.h>

#include "llm_provider.h"
#include "pa_buf.h"

/* Longest SSE line (and data of one event) accepted, when LLM_MAX_RESPONSE_BYTES is larger. */
#define LLM_STREAM_MAX_LINE (256u * 1024u)

/* ---- SSE framing -------------------------------------------------------------------------- */

/* One event: its type ("message" when the stream named none) and data (len bytes, NUL-terminated).
 * Returns 0 to go on, -1 to stop the parser (llm_sse_feed then fails). */
typedef int (*llm_sse_event_fn)(void *ud, const char *event, const char *data, size_t len);

typedef struct {
    llm_sse_event_fn fn;
    void *ud;
    size_t max_line;
    pa_buf_t line, event, data;
    int have_data; /* a data field was seen in the current event */
    int after_cr;  /* the last byte was a CR (a LF right after it ends nothing more) */
    unsigned bom;  /* bytes of a leading BOM matched so far; 3 once past the start */
    int failed;
    char err[96];
} llm_sse_t;

void llm_sse_init(llm_sse_t *p, size_t max_line, llm_sse_event_fn fn, void *ud);
/* 0, or -1 once a line is too long or fn refused an event (p->err says why); a failed parser
 * accepts nothing more. */
int llm_sse_feed(llm_sse_t *p, const char *buf, size_t n);
void llm_sse_free(llm_sse_t *p);

/* ---- provider streams --------------------------------------------------------------------- */

typedef struct llm_stream llm_stream_t;

/* model: the model asked for (the answer's own name wins). max_line as for llm_sse_init. */
llm_stream_t *llm_stream_new(llm_provider_t p, const char *model, size_t max_line);
void llm_stream_destroy(llm_stream_t **s);
/* Feeds body bytes. 0, or -1 when the stream cannot go on: malformed framing or event, an error
 * event, or a refusal; llm_stream_result then says why. */
int llm_stream_feed(llm_stream_t *s, const char *buf, size_t n);
/* The model's text so far (NUL-terminated, *len bytes); it only grows. */
const char *llm_stream_text(const llm_stream_t *s, size_t *len);
/* 1 once the end marker arrived ([DONE], message_stop). */
int llm_stream_complete(const llm_stream_t *s);
/* The outcome of a stream whose HTTP transfer is over (or was stopped by llm_stream_feed): OK
 * with the text, model and usage; TRANSIENT for an error event of a passing kind (overloaded,
 * rate limit, server error), an event that is not the JSON the format promises, or a stream that
 * ended before its end marker (as llm_parse_answer treats a truncated answer); PERMANENT for a
 * refusal, a content filter, an error event of a permanent kind (invalid request, auth), or a
 * line longer than max_line. The caller frees res with llm_res_free. */
void llm_stream_result(const llm_stream_t *s, llm_res_t *res);

#endif
