/* HTTP POSTs on libcurl's multi interface, driven by the worker runtime's one poll loop:
 * llm_http_fds gives the sockets libcurl wants watched (CURLMOPT_SOCKETFUNCTION), llm_http_on_fds
 * hands back their readiness, llm_http_tick runs libcurl's timers (CURLMOPT_TIMERFUNCTION) and
 * returns how long the loop may sleep. At most `concurrency` transfers run at once; the others
 * wait in a FIFO. Each transfer has a connect and a total timeout and a cap on the response
 * size. Completion callbacks run from llm_http_tick and llm_http_on_fds, never from inside
 * libcurl. Single-threaded. */
#ifndef LLM_HTTP_H
#define LLM_HTTP_H

#include <poll.h>
#include <stddef.h>

typedef struct llm_http llm_http_t;

typedef struct {
    long concurrency; /* transfers at once */
    long connect_timeout_ms;
    long timeout_ms;     /* whole transfer, from its start (not from when it was queued) */
    size_t max_response; /* bytes of body; more fails the transfer with too_large */
} llm_http_cfg_t;

typedef struct {
    long status;            /* HTTP status of the final response, 0 when none */
    int curl_code;          /* CURLcode (0: the transfer completed) */
    const char *curl_error; /* libcurl's message when curl_code != 0 */
    int timed_out;          /* curl_code is a timeout */
    int too_large;          /* the body passed max_response */
    const char *body;       /* NUL-terminated; len bytes */
    size_t len;
    long retry_after_ms; /* from Retry-After / retry-after-ms, or 0 */
    long elapsed_ms;     /* from the start of the transfer */
    int streamed;        /* the body went to the chunk callback (body is then empty) */
    int aborted;         /* the chunk callback stopped the transfer */
} llm_http_result_t;

typedef void (*llm_http_done_fn)(void *ctx, const llm_http_result_t *r);
/* Body bytes of a streamed response as they arrive; 0 to go on, -1 to stop the transfer. Called
 * from inside libcurl (its write callback): it must not call back into this engine. */
typedef int (*llm_http_chunk_fn)(void *ctx, const char *data, size_t len);

/* NULL when libcurl cannot be set up (curl_global_init is the caller's). */
llm_http_t *llm_http_new(const llm_http_cfg_t *cfg);
/* Aborts every transfer, started or queued, without calling their callbacks. */
void llm_http_destroy(llm_http_t **h);

/* Queues a POST of body (len bytes) to url with headers ("Name: value", NULL-terminated; copied).
 * done is called exactly once, later (never from inside this call), unless the engine is
 * destroyed first. */
void llm_http_post(llm_http_t *h, const char *url, const char *const *headers, const char *body,
                   size_t len, llm_http_done_fn done, void *ctx);
/* The same, for an answer that may stream: when the response is 2xx with Content-Type
 * text/event-stream its body goes to chunk as it arrives and is not kept (max_response still
 * bounds its total); any other response is kept and handed to done as usual. */
void llm_http_post_stream(llm_http_t *h, const char *url, const char *const *headers,
                          const char *body, size_t len, llm_http_chunk_fn chunk,
                          llm_http_done_fn done, void *ctx);

/* Starts queued transfers, runs due timers, delivers completions; returns the longest the
 * caller may sleep in ms (-1: no limit). */
long llm_http_tick(llm_http_t *h);
int llm_http_fds(llm_http_t *h, struct pollfd *out, int max);
void llm_http_on_fds(llm_http_t *h, const struct pollfd *fds, int n);

size_t llm_http_running(const llm_http_t *h);
size_t llm_http_queued(const llm_http_t *h);

#endif
