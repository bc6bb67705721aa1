/* Streamed provider answers (workers/llm/llm_stream.c): the OpenAI and Anthropic stream events up
 * to one outcome, fed in chunks of every size. The SSE framing under them (common/pa_sse.c) has
 * its own tests, test_sse.c. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "llm_stream.h"

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
