/* Streamed answers of the LLM providers, read as they arrive (the generate stage with
 * "stream": true).
 *
 * Pure (no I/O, no libcurl) and fed with whatever byte chunks the network gives, so a chunk may
 * end anywhere, even inside a CRLF or a UTF-8 sequence. The Server-Sent Events framing is the
 * suite's one parser, common/pa_sse.h (a line, and the data of one event, longer than max_line
 * bytes stop the stream); on it, the events of OpenAI chat-completion chunks ("data: {...}" ...
 * "data: [DONE]", usage in the last chunk with stream_options.include_usage) and of Anthropic
 * Messages streams (message_start, content_block_start/delta/stop, message_delta, message_stop,
 * ping, error): the text so far, the model, the token usage, and at the end one classification
 * like llm_parse_answer's. */
#ifndef LLM_STREAM_H
#define LLM_STREAM_H

#include <stddef.h>

#include "llm_provider.h"
#include "pa_buf.h"

/* Longest SSE line (and data of one event) accepted, when LLM_MAX_RESPONSE_BYTES is larger; the
 * bound used when llm_stream_new is given 0. */
#define LLM_STREAM_MAX_LINE (256u * 1024u)

typedef struct llm_stream llm_stream_t;

/* model: the model asked for (the answer's own name wins). max_line: the bound on a line and on
 * the data of one event (0: LLM_STREAM_MAX_LINE). */
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
