/* libFuzzer target for the streamed provider answers (workers/llm/llm_stream.c): the SSE framing
 * and the OpenAI and Anthropic stream events, fed in chunks whose sizes the input chooses.
 *
 * Input: byte 0 picks the provider (even: openai, odd: anthropic) and byte 1 the chunk size
 * (1..64, so chunk boundaries fall anywhere, inside CRLFs and UTF-8 sequences); the rest is the
 * response body. Checks: the text only grows, every event's data stays within the line limit,
 * feeding the same bytes whole gives the same outcome and text as feeding them in chunks, an OK
 * outcome carries exactly the streamed text, and nothing leaks (ASan).
 *
 * Sources: this file, workers/llm/llm_stream.c, workers/llm/llm_provider.c, common/pa_sse.c,
 * common/pa_buf.c;
 * flags -Iworkers/llm -Icommon plus jansson's cflags; libs jansson and m. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_stream.h"
#include "pa_sse.h"

#define MAX_LINE 512

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_llm_stream: check failed: %s: ", #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int on_event(void *ud, const pa_sse_event_t *ev)
{
    size_t *n = ud;
    CHECK(ev->data_len <= MAX_LINE, "data of %zu bytes", ev->data_len);
    CHECK(ev->data[ev->data_len] == '\0', "data not terminated");
    CHECK(ev->type && ev->type_len, "no event type");
    (*n)++;
    return 0;
}

/* Runs the stream over body in chunks of step bytes; the outcome in res, the text in *text. */
static void run(llm_provider_t p, const uint8_t *body, size_t len, size_t step, llm_res_t *res,
                char **text, size_t *text_len)
{
    llm_stream_t *s = llm_stream_new(p, "m", MAX_LINE);
    size_t seen = 0;
    for (size_t i = 0; i < len; i += step) {
        int rc = llm_stream_feed(s, (const char *)body + i, len - i < step ? len - i : step);
        size_t tl;
        llm_stream_text(s, &tl);
        CHECK(tl >= seen, "the text shrank from %zu to %zu", seen, tl);
        seen = tl;
        if (rc < 0) {
            CHECK(llm_stream_feed(s, "data: x\n\n", 9) == -1, "a stopped stream took more");
            break;
        }
    }
    llm_stream_result(s, res);
    size_t tl;
    const char *t = llm_stream_text(s, &tl);
    *text = malloc(tl + 1);
    if (!*text) abort();
    memcpy(*text, t ? t : "", tl);
    (*text)[tl] = '\0';
    *text_len = tl;
    llm_stream_destroy(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    llm_provider_t p = (data[0] & 1) ? LLM_PROVIDER_ANTHROPIC : LLM_PROVIDER_OPENAI;
    size_t step = (size_t)(data[1] % 64) + 1;
    const uint8_t *body = data + 2;
    size_t len = size - 2;

    /* the framing alone */
    size_t events = 0;
    pa_sse_t sse;
    pa_sse_init(&sse, MAX_LINE, MAX_LINE, on_event, &events);
    for (size_t i = 0; i < len; i += step)
        if (pa_sse_feed(&sse, (const char *)body + i, len - i < step ? len - i : step) < 0) break;
    pa_sse_free(&sse);

    llm_res_t a, b;
    char *ta, *tb;
    size_t la, lb;
    run(p, body, len, step, &a, &ta, &la);
    run(p, body, len ? len : 1, len ? len : 1, &b, &tb, &lb);
    CHECK(a.kind == b.kind, "chunked %d, whole %d (%s / %s)", a.kind, b.kind, a.reason, b.reason);
    CHECK(la == lb && memcmp(ta, tb, la) == 0, "the text depends on the chunking");
    CHECK(strcmp(a.reason, b.reason) == 0, "reasons differ: %s / %s", a.reason, b.reason);
    if (a.kind == LLM_RES_OK) {
        CHECK(a.text && strlen(a.text) <= la && memcmp(a.text, ta, strlen(a.text)) == 0,
              "the outcome's text is not the streamed text");
        CHECK(a.prompt_tokens >= 0 && a.completion_tokens >= 0, "negative usage");
    } else {
        CHECK(!a.text && a.reason[0], "a failure without a reason");
    }
    llm_res_free(&a);
    llm_res_free(&b);
    free(ta);
    free(tb);
    return 0;
}
