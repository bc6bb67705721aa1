/* Streamed provider answers (workers/llm/llm_stream.c): the SSE framing, fed whole, byte by byte
 * and at every split point; and the OpenAI and Anthropic stream events up to one outcome. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "llm_stream.h"

/* ---- SSE framing -------------------------------------------------------------------------- */

/* Events as "type=data|" appended to a buffer. */
static int collect(void *ud, const char *event, const char *data, size_t len)
{
    pa_buf_t *b = ud;
    cr_assert_eq(strlen(data), len, "data is NUL-terminated at its length");
    pa_buf_printf(b, "%s=%.*s|", event, (int)len, data);
    return 0;
}

/* Parses in in pieces of `step` bytes (0: whole); the events, or "ERROR: why". Caller frees. */
static char *parse(const char *in, size_t len, size_t step, size_t max_line)
{
    llm_sse_t p;
    pa_buf_t out = PA_BUF_INIT;
    llm_sse_init(&p, max_line, collect, &out);
    int rc = 0;
    if (!step) step = len ? len : 1;
    for (size_t i = 0; i < len && rc == 0; i += step)
        rc = llm_sse_feed(&p, in + i, len - i < step ? len - i : step);
    if (rc < 0) {
        pa_buf_reset(&out);
        pa_buf_printf(&out, "ERROR: %s", p.err);
    }
    llm_sse_free(&p);
    pa_buf_putc(&out, '\0');
    return pa_buf_detach(&out, NULL);
}

/* Asserts the same events whole, byte by byte, and split in two at every point. */
static void expect(const char *in, const char *want)
{
    size_t len = strlen(in);
    char *got = parse(in, len, 0, 1024);
    cr_assert_str_eq(got, want, "whole: %s", in);
    free(got);
    got = parse(in, len, 1, 1024);
    cr_assert_str_eq(got, want, "byte by byte: %s", in);
    free(got);
    for (size_t cut = 1; cut < len; cut++) {
        llm_sse_t p;
        pa_buf_t out = PA_BUF_INIT;
        llm_sse_init(&p, 1024, collect, &out);
        cr_assert_eq(llm_sse_feed(&p, in, cut), 0);
        cr_assert_eq(llm_sse_feed(&p, in + cut, len - cut), 0);
        pa_buf_putc(&out, '\0');
        cr_assert_str_eq(out.data, want, "split at %zu: %s", cut, in);
        pa_buf_free(&out);
        llm_sse_free(&p);
    }
}

Test(llm_sse, events_with_lf_crlf_and_cr_line_ends)
{
    expect("data: a\n\ndata: b\n\n", "message=a|message=b|");
    expect("data: a\r\n\r\ndata: b\r\n\r\n", "message=a|message=b|");
    expect("data: a\r\rdata: b\r\r", "message=a|message=b|");
    expect("data: a\r\n\ndata: b\r\r\n", "message=a|message=b|");
}

Test(llm_sse, event_names_comments_and_ignored_fields)
{
    expect("event: message_start\ndata: {\"x\":1}\n\n", "message_start={\"x\":1}|");
    expect(": keep-alive\n\n: another\ndata: x\n\n", "message=x|");
    expect("id: 7\nretry: 100\nfoo: bar\nevent: e\ndata: y\n\n", "e=y|");
    /* the event name does not carry over to the next event */
    expect("event: a\ndata: 1\n\ndata: 2\n\n", "a=1|message=2|");
}

Test(llm_sse, multi_line_data_is_joined_with_newlines)
{
    expect("data: one\ndata: two\ndata:\ndata: four\n\n", "message=one\ntwo\n\nfour|");
}

Test(llm_sse, one_optional_space_and_fields_without_colon)
{
    expect("data:no space\n\n", "message=no space|");
    expect("data:  two spaces\n\n", "message= two spaces|");
    expect("data\n\n", "message=|"); /* a data field with an empty value */
    expect("event: x\n\n", "");      /* no data: nothing is dispatched */
    expect("data: a:b: c\n\n", "message=a:b: c|");
}

Test(llm_sse, a_leading_bom_is_dropped_and_an_unfinished_event_is_not_dispatched)
{
    expect("\xef\xbb\xbf"
           "data: a\n\n",
           "message=a|");
    expect("\xef\xbb"
           "data: a\n\n",
           ""); /* a broken BOM is kept: the field is not "data" */
    expect("data: a\n\ndata: b\n", "message=a|");
    expect("data: a\n\ndata: b", "message=a|");
}

Test(llm_sse, oversized_lines_and_data_are_refused)
{
    char line[300];
    memset(line, 'x', sizeof line);
    memcpy(line, "data: ", 6);
    line[299] = '\0';
    pa_buf_t in = PA_BUF_INIT;
    pa_buf_printf(&in, "%s\n\n", line);
    char *got = parse(in.data, in.len, 0, 200);
    cr_assert_str_eq(got, "ERROR: a stream line is too long");
    free(got);
    got = parse(in.data, in.len, 1, 200); /* no line end ever arrives: still bounded */
    cr_assert_str_eq(got, "ERROR: a stream line is too long");
    free(got);
    got = parse(in.data, in.len, 0, 400);
    cr_assert(strncmp(got, "message=xxx", 11) == 0, "%s", got);
    free(got);
    /* many short data lines adding up past the limit */
    pa_buf_reset(&in);
    for (int i = 0; i < 100; i++) pa_buf_puts(&in, "data: 0123456789\n");
    pa_buf_puts(&in, "\n");
    got = parse(in.data, in.len, 7, 200);
    cr_assert_str_eq(got, "ERROR: an event's data is too long");
    free(got);
    pa_buf_free(&in);
}

static int refuse(void *ud, const char *event, const char *data, size_t len)
{
    (*(int *)ud)++;
    return -1;
}

Test(llm_sse, a_refused_event_stops_the_parser)
{
    int calls = 0;
    llm_sse_t p;
    llm_sse_init(&p, 100, refuse, &calls);
    cr_assert_eq(llm_sse_feed(&p, "data: a\n\ndata: b\n\n", 18), -1);
    cr_assert_eq(llm_sse_feed(&p, "data: c\n\n", 9), -1);
    cr_assert_eq(calls, 1);
    llm_sse_free(&p);
}

/* ---- provider streams --------------------------------------------------------------------- */

static const char openai_ok[] =
    "data: "
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-x-2024\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: "
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-x-2024\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    ": a comment\n\n"
    "data: "
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-x-2024\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"content\":\" w\\u00f6rld "
    "\\\"q\\\"\\n\"},\"finish_reason\":null}]}\n\n"
    "data: "
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-x-2024\",\"choices\":"
    "[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: "
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-x-2024\",\"choices\":"
    "[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":4,\"total_tokens\":15}}\n\n"
    "data: [DONE]\n\n";

static const char anthropic_ok[] =
    "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"type\":"
    "\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,"
    "\"usage\":{\"input_tokens\":20,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\r\n\r\n"
    "event: content_block_start\r\ndata: {\"type\":\"content_block_start\",\"index\":0,"
    "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\n\r\n"
    "event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"
    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"Hi \"}}\r\n\r\n"
    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"there\"}}\r\n\r\n"
    "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n"
    "event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
    "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\r\n\r\n"
    "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";

/* Feeds in in pieces of step bytes (stopping at the first refusal); the outcome in res. */
static void run(llm_provider_t p, const char *in, size_t step, llm_res_t *res, pa_buf_t *texts)
{
    llm_stream_t *s = llm_stream_new(p, "asked", 4096);
    size_t len = strlen(in), seen = 0;
    for (size_t i = 0; i < len; i += step) {
        int rc = llm_stream_feed(s, in + i, len - i < step ? len - i : step);
        size_t tl;
        const char *t = llm_stream_text(s, &tl);
        cr_assert_geq(tl, seen, "the text only grows");
        if (texts && tl > seen) pa_buf_printf(texts, "[%.*s]", (int)(tl - seen), t + seen);
        seen = tl;
        if (rc < 0) break;
    }
    llm_stream_result(s, res);
    llm_stream_destroy(&s);
    cr_assert_null(s);
}

Test(llm_stream, openai_text_model_and_usage_whatever_the_chunking)
{
    for (size_t step = 1; step <= sizeof openai_ok; step += step < 8 ? 1 : 97) {
        llm_res_t res;
        run(LLM_PROVIDER_OPENAI, openai_ok, step, &res, NULL);
        cr_assert_eq(res.kind, LLM_RES_OK, "step %zu: %s", step, res.reason);
        cr_assert_str_eq(res.text, "Hello w\xc3\xb6rld \"q\"\n");
        cr_assert_str_eq(res.model, "gpt-x-2024");
        cr_assert_eq(res.prompt_tokens, 11);
        cr_assert_eq(res.completion_tokens, 4);
        llm_res_free(&res);
    }
}

Test(llm_stream, the_text_grows_delta_by_delta)
{
    llm_res_t res;
    pa_buf_t t = PA_BUF_INIT;
    run(LLM_PROVIDER_ANTHROPIC, anthropic_ok, 1, &res, &t);
    cr_assert_str_eq(t.data, "[Hi ][there]");
    cr_assert_eq(res.kind, LLM_RES_OK, "%s", res.reason);
    cr_assert_str_eq(res.text, "Hi there");
    cr_assert_str_eq(res.model, "claude-x");
    cr_assert_eq(res.prompt_tokens, 25, "input plus cache reads");
    cr_assert_eq(res.completion_tokens, 9, "the last message_delta's count");
    llm_res_free(&res);
    pa_buf_free(&t);
}

Test(llm_stream, a_stream_without_its_end_marker_is_transient)
{
    llm_res_t res;
    const char *cut = strstr(openai_ok, "data: [DONE]");
    char *part = pa_strndup(openai_ok, (size_t)(cut - openai_ok));
    run(LLM_PROVIDER_OPENAI, part, 50, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_TRANSIENT);
    cr_assert(strstr(res.reason, "openai: the stream ended before its end marker"), "%s",
              res.reason);
    cr_assert_null(res.text);
    free(part);
    cut = strstr(anthropic_ok, "event: message_stop");
    part = pa_strndup(anthropic_ok, (size_t)(cut - anthropic_ok));
    run(LLM_PROVIDER_ANTHROPIC, part, 50, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_TRANSIENT);
    cr_assert(strstr(res.reason, "message_stop"), "%s", res.reason);
    free(part);
}

Test(llm_stream, error_events_mid_stream)
{
    llm_res_t res;
    const char *overloaded =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":"
        "\"text_delta\",\"text\":\"Hi\"}}\n\n"
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        "\"message\":\"Overloaded\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":"
        "\"text_delta\",\"text\":\" more\"}}\n\n";
    pa_buf_t t = PA_BUF_INIT;
    run(LLM_PROVIDER_ANTHROPIC, overloaded, 3, &res, &t);
    cr_assert_eq(res.kind, LLM_RES_TRANSIENT);
    cr_assert_str_eq(res.reason, "anthropic: an error in the stream: Overloaded");
    cr_assert_str_eq(t.data, "[Hi]", "nothing after the error counts");
    pa_buf_free(&t);
    run(LLM_PROVIDER_ANTHROPIC,
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
        "\"message\":\"bad\"}}\n\n",
        1, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_PERMANENT, "%s", res.reason);
    run(LLM_PROVIDER_OPENAI,
        "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n",
        5, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_TRANSIENT);
    cr_assert_str_eq(res.reason, "openai: an error in the stream: The server had an error");
}

Test(llm_stream, refusals_and_content_filters_are_permanent)
{
    llm_res_t res;
    run(LLM_PROVIDER_OPENAI,
        "data: {\"choices\":[{\"delta\":{\"refusal\":\"I can't \"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"refusal\":\"help.\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n",
        4, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_PERMANENT);
    cr_assert_str_eq(res.reason, "openai: the model refused: I can't help.");
    run(LLM_PROVIDER_OPENAI,
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"content_filter\"}]}\n\ndata: "
        "[DONE]\n\n",
        4, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_PERMANENT);
    cr_assert(strstr(res.reason, "content filter"), "%s", res.reason);
    run(LLM_PROVIDER_ANTHROPIC,
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "\"refusal\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        4, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_PERMANENT);
    cr_assert(strstr(res.reason, "refused"), "%s", res.reason);
}

Test(llm_stream, malformed_events_and_long_lines)
{
    llm_res_t res;
    run(LLM_PROVIDER_OPENAI,
        "data: {\"choices\":[{\"delta\":{\"content\":\"x\"\n\ndata: [DONE]\n\n", 2, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_TRANSIENT);
    cr_assert(strstr(res.reason, "not a JSON object"), "%s", res.reason);
    pa_buf_t in = PA_BUF_INIT;
    pa_buf_puts(&in, "data: {\"choices\":[{\"delta\":{\"content\":\"");
    for (int i = 0; i < 500; i++) pa_buf_puts(&in, "0123456789");
    pa_buf_puts(&in, "\"}}]}\n\ndata: [DONE]\n\n");
    run(LLM_PROVIDER_OPENAI, in.data, 64, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_PERMANENT);
    cr_assert(strstr(res.reason, "a stream line is too long (longer than 4096 bytes)"), "%s",
              res.reason);
    pa_buf_free(&in);
    /* after the end marker nothing counts */
    run(LLM_PROVIDER_OPENAI,
        "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]\n\ndata: junk\n\n",
        3, &res, NULL);
    cr_assert_eq(res.kind, LLM_RES_OK, "%s", res.reason);
    cr_assert_str_eq(res.text, "ok");
    cr_assert_str_eq(res.model, "asked", "the model asked for when the answer names none");
    llm_res_free(&res);
}

Test(llm_stream, request_bodies_ask_for_a_stream)
{
    char *s = llm_request_body(LLM_PROVIDER_OPENAI, "m", "S", "U", NULL, 1, NULL);
    json_t *b = json_loads(s, 0, NULL);
    cr_assert(json_is_true(json_object_get(b, "stream")), "%s", s);
    cr_assert(json_is_true(json_object_get(json_object_get(b, "stream_options"), "include_usage")),
              "%s", s);
    json_decref(b);
    free(s);
    s = llm_request_body(LLM_PROVIDER_ANTHROPIC, "m", "S", "U", NULL, 1, NULL);
    b = json_loads(s, 0, NULL);
    cr_assert(json_is_true(json_object_get(b, "stream")), "%s", s);
    cr_assert_null(json_object_get(b, "stream_options"), "%s", s);
    json_decref(b);
    free(s);
    s = llm_request_body(LLM_PROVIDER_OPENAI, "m", "S", "U", NULL, 0, NULL);
    cr_assert_null(strstr(s, "stream"), "%s", s);
    free(s);
}
