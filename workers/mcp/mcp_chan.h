/* Message channels: the MCP transports on which JSON-RPC messages flow both ways on one long-lived
 * link, not one HTTP exchange per request. The client (mcp_client.c) runs its session over them
 * (initialize, requests matched to answers by id).
 *
 *   stdio  a child process (the server's command and args, its environment built from the
 *          server's env refs on top of a minimal one): messages are newline-delimited JSON on
 *          its stdin and stdout (no embedded newline); its stderr is read and logged a line at a
 *          time (bounded), never mixed with messages. When it exits or its stdout closes, the
 *          channel reports on_closed and spawns it again after a backoff (500 ms doubling to
 *          30 s; reset after it stayed up 60 s), then on_open again.
 *   sse    the legacy HTTP+SSE transport (2024-11-05): GET url (Accept: text/event-stream) keeps
 *          a stream open; its first "endpoint" event names (relative to url) where to POST each
 *          message; the server's messages arrive as "message" events. A lost stream is reported
 *          (on_closed) and opened again after the same backoff; the new endpoint comes with a
 *          new on_open.
 *
 * Rules: callbacks come from the loop, never inside an mcp_chan_* call; none after
 * mcp_chan_destroy. on_open comes before any message; after on_closed, messages come again only
 * after the next on_open. on_closed comes only after an on_open: an attempt that fails before
 * (a restart whose command cannot start, a stream refused or whose endpoint is refused) is
 * logged and tried again after the backoff, without a callback. */
#ifndef MCP_CHAN_H
#define MCP_CHAN_H
#include <stddef.h>

#include "mcp_config.h"
#include "pa_http.h"
#include "pa_loop.h"

typedef struct mcp_chan mcp_chan_t;

typedef struct {
    /* The link is up: messages may be sent. */
    void (*on_open)(void *ud);
    /* One received message's text (one line of stdout, one "message" event's data), not yet
     * parsed, NUL-terminated at len; valid during the call only. Blank lines are skipped. */
    void (*on_message)(void *ud, const char *json, size_t len);
    /* The link is down (why: a sentence). Messages sent and not answered are lost: the client
     * fails their requests. The channel reconnects by itself (see above). */
    void (*on_closed)(void *ud, const char *why);
} mcp_chan_ops_t;

typedef struct {
    pa_loop_t *loop;
    pa_http_t *http;                 /* sse */
    const mcp_server_conf_t *server; /* borrowed: outlives the channel */
    /* sse: extra header lines ("Name: value", copied) for the GET and every POST: the server's
     * configured headers, Authorization. NULL-terminated; NULL: none. */
    const char *const *headers;
    pa_http_connect_fn on_connect; /* sse: checks every address (called with ud); NULL: none */
    size_t max_message;            /* bytes of one message; 0: MCP_JSONRPC_MAX_BYTES_DEFAULT */
    const mcp_chan_ops_t *ops;
    void *ud;
} mcp_chan_cfg_t;

/* Opens the channel for cfg->server (transport stdio or sse); on_open follows when it is up.
 * NULL with err when it cannot start at all (no command, a bad URL). */
mcp_chan_t *mcp_chan_open(const mcp_chan_cfg_t *cfg, char *err, size_t errlen);
/* Queues one message (no newline inside: stdio refuses it). 0, or -1 when the link is down or
 * the message is refused (longer than max_message, or the queue holds more than
 * max(2 * max_message, 16 MiB) bytes not yet written). sse POSTs the messages one at a time, in
 * order (202 expected; a 404 or a failed POST closes the link): the stream and a POST need two
 * connections of http to the host at once. */
int mcp_chan_send(mcp_chan_t *ch, const char *json, size_t len);
/* 1 while the link is up. */
int mcp_chan_is_open(const mcp_chan_t *ch);
/* stdio: the child's PID, 0 when none runs (for tests that kill it). */
int mcp_chan_pid(const mcp_chan_t *ch);
/* Why the link last went down or the last attempt failed (a sentence, e.g. "GET of the event
 * stream answered 405"), "" when nothing failed yet: for the error of a call made while the
 * link is not up. Valid until the next loop turn. */
const char *mcp_chan_last_error(const mcp_chan_t *ch);
/* Ends the channel: stdio closes the child's stdin, waits up to grace_ms for it to exit, then
 * SIGTERM, then SIGKILL (the wait happens on the loop: the child is reaped later, never left a
 * zombie); sse stops the stream. No callback after this call. Sets *ch to NULL. */
void mcp_chan_destroy(mcp_chan_t **ch, long grace_ms);

/* ---- pure helper (unit-tested and fuzzed) ---- */

/* Newline-delimited framing: splits buffered bytes into lines (LF, an optional CR before it
 * dropped), each passed to fn (NUL-terminated at len; fn must not free the framer); a line
 * longer than max (0: MCP_JSONRPC_MAX_BYTES_DEFAULT) is an error (-1), found before its LF
 * arrives (the buffer stays within max + 3 bytes), and the framer refuses everything after. */
typedef struct {
    char *buf;
    size_t len, cap, max;
    int failed;
} mcp_lines_t;
void mcp_lines_init(mcp_lines_t *f, size_t max);
int mcp_lines_feed(mcp_lines_t *f, const char *data, size_t n,
                   void (*fn)(void *ud, const char *line, size_t len), void *ud);
void mcp_lines_free(mcp_lines_t *f);

#endif
