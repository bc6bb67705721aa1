/* Streamed provider answers: the OpenAI / Anthropic stream events on the SSE framing of pa_sse
 * (llm_stream.h). */
#include "llm_stream.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_sse.h"

struct llm_stream {
    llm_provider_t p;
    pa_sse_t sse;
    pa_buf_t text;
    char model[128];
    long prompt_tokens, completion_tokens;
    int complete; /* the end marker arrived */
    int stopped;  /* an event ended the stream: fail_kind and reason say how */
    llm_res_kind_t fail_kind;
    char reason[600];
    pa_buf_t refusal; /* OpenAI: delta.refusal text */
    int filtered;     /* OpenAI: finish_reason content_filter */
    int refused;      /* Anthropic: stop_reason refusal */
};

static int stop(llm_stream_t *s, llm_res_kind_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int stop(llm_stream_t *s, llm_res_kind_t kind, const char *fmt, ...)
{
    if (s->stopped) return -1;
    s->stopped = 1;
    s->fail_kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    va_end(ap);
    return -1;
}

static void set_model(llm_stream_t *s, const json_t *m)
{
    llm_res_t tmp;
    memset(&tmp, 0, sizeof tmp);
    llm_res_set_model(&tmp, m);
    if (tmp.model[0]) memcpy(s->model, tmp.model, sizeof s->model);
}

static void append(llm_stream_t *s, const json_t *t)
{
    if (json_is_string(t)) pa_buf_put(&s->text, json_string_value(t), json_string_length(t));
}

/* An error object inside the stream ({"type":"error","error":{...}} or {"error":{...}}). */
static int stream_error(llm_stream_t *s, const json_t *j, const char *data, size_t len)
{
    const json_t *e = json_object_get(j, "error");
    const char *type = json_string_value(json_object_get(e, "type"));
    if (!type) type = json_string_value(json_object_get(e, "code"));
    static const char *const permanent[] = {
        "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
        "request_too_large",     "invalid_api_key",      "model_not_found",  NULL};
    llm_res_kind_t kind = LLM_RES_TRANSIENT;
    for (int i = 0; type && permanent[i]; i++)
        if (strcmp(type, permanent[i]) == 0) kind = LLM_RES_PERMANENT;
    pa_buf_t msg = PA_BUF_INIT;
    llm_error_text(j, data, len, &msg);
    stop(s, kind, "an error in the stream: %s", msg.data);
    pa_buf_free(&msg);
    return -1;
}

static int openai_event(llm_stream_t *s, const json_t *j, const char *data, size_t len)
{
    if (json_object_get(j, "error")) return stream_error(s, j, data, len);
    set_model(s, json_object_get(j, "model"));
    const json_t *c0 = json_array_get(json_object_get(j, "choices"), 0);
    const json_t *d = json_object_get(c0, "delta");
    append(s, json_object_get(d, "content"));
    const json_t *rf = json_object_get(d, "refusal");
    if (json_is_string(rf)) pa_buf_put(&s->refusal, json_string_value(rf), json_string_length(rf));
    const json_t *fin = json_object_get(c0, "finish_reason");
    if (json_is_string(fin) && strcmp(json_string_value(fin), "content_filter") == 0)
        s->filtered = 1;
    const json_t *u = json_object_get(j, "usage");
    if (json_is_object(u)) {
        s->prompt_tokens = llm_json_count(u, "prompt_tokens");
        s->completion_tokens = llm_json_count(u, "completion_tokens");
    }
    return 0;
}

static int anthropic_event(llm_stream_t *s, const char *type, const json_t *j, const char *data,
                           size_t len)
{
    if (strcmp(type, "error") == 0) return stream_error(s, j, data, len);
    if (strcmp(type, "message_start") == 0) {
        const json_t *m = json_object_get(j, "message");
        set_model(s, json_object_get(m, "model"));
        const json_t *u = json_object_get(m, "usage");
        s->prompt_tokens = llm_anthropic_prompt_tokens(u);
        s->completion_tokens = llm_json_count(u, "output_tokens");
    } else if (strcmp(type, "content_block_start") == 0) {
        const json_t *b = json_object_get(j, "content_block");
        const char *bt = json_string_value(json_object_get(b, "type"));
        if (bt && strcmp(bt, "text") == 0) append(s, json_object_get(b, "text"));
    } else if (strcmp(type, "content_block_delta") == 0) {
        const json_t *d = json_object_get(j, "delta");
        const char *dt = json_string_value(json_object_get(d, "type"));
        if (dt && strcmp(dt, "text_delta") == 0) append(s, json_object_get(d, "text"));
    } else if (strcmp(type, "message_delta") == 0) {
        const json_t *stop_reason = json_object_get(json_object_get(j, "delta"), "stop_reason");
        if (json_is_string(stop_reason) && strcmp(json_string_value(stop_reason), "refusal") == 0)
            s->refused = 1;
        const json_t *u = json_object_get(j, "usage");
        if (json_object_get(u, "output_tokens"))
            s->completion_tokens = llm_json_count(u, "output_tokens");
        if (json_object_get(u, "input_tokens")) s->prompt_tokens = llm_anthropic_prompt_tokens(u);
    } else if (strcmp(type, "message_stop") == 0) {
        s->complete = 1;
    }
    /* ping, content_block_stop and event types added later are ignored */
    return 0;
}

static int on_event(void *ud, const pa_sse_event_t *ev)
{
    llm_stream_t *s = ud;
    const char *event = ev->type, *data = ev->data;
    size_t len = ev->data_len;
    if (s->complete) return 0; /* nothing counts after the end marker */
    if (s->p == LLM_PROVIDER_OPENAI && len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        s->complete = 1;
        return 0;
    }
    json_error_t je;
    json_t *j = json_loadb(data, len, 0, &je);
    int rc;
    if (!json_is_object(j)) {
        pa_buf_t ex = PA_BUF_INIT;
        llm_excerpt(data, len, 80, &ex);
        rc = stop(s, LLM_RES_TRANSIENT, "a stream event that is not a JSON object: %s",
                  ex.len ? ex.data : "(empty)");
        pa_buf_free(&ex);
    } else if (s->p == LLM_PROVIDER_ANTHROPIC) {
        /* the data's type names the event (the SSE event name says the same) */
        const char *type = json_string_value(json_object_get(j, "type"));
        rc = anthropic_event(s, type ? type : event, j, data, len);
    } else {
        rc = openai_event(s, j, data, len);
    }
    json_decref(j);
    return rc;
}

llm_stream_t *llm_stream_new(llm_provider_t p, const char *model, size_t max_line)
{
    llm_stream_t *s = pa_calloc(1, sizeof *s);
    s->p = p;
    snprintf(s->model, sizeof s->model, "%s", model ? model : "");
    if (!max_line) max_line = LLM_STREAM_MAX_LINE;
    pa_sse_init(&s->sse, max_line, max_line, on_event, s);
    pa_buf_reserve(&s->text, 256);
    return s;
}

void llm_stream_destroy(llm_stream_t **sp)
{
    llm_stream_t *s = *sp;
    if (!s) return;
    pa_sse_free(&s->sse);
    pa_buf_free(&s->text);
    pa_buf_free(&s->refusal);
    free(s);
    *sp = NULL;
}

int llm_stream_feed(llm_stream_t *s, const char *buf, size_t n)
{
    if (s->stopped) return -1;
    if (pa_sse_feed(&s->sse, buf, n) == 0) return 0;
    if (!s->stopped) /* the framing failed (a bound), not an event */
        stop(s, LLM_RES_PERMANENT, "%s (longer than %zu bytes)", s->sse.err,
             s->sse.error == PA_SSE_ERR_EVENT ? s->sse.max_event : s->sse.max_line);
    return -1;
}

const char *llm_stream_text(const llm_stream_t *s, size_t *len)
{
    *len = s->text.len;
    return s->text.data;
}

int llm_stream_complete(const llm_stream_t *s)
{
    return s->complete;
}

void llm_stream_result(const llm_stream_t *s, llm_res_t *res)
{
    memset(res, 0, sizeof *res);
    memcpy(res->model, s->model, sizeof res->model);
    llm_provider_t p = s->p;
    if (s->stopped) {
        llm_res_fail(res, s->fail_kind, p, "%s", s->reason);
    } else if (s->filtered) {
        llm_res_fail(res, LLM_RES_PERMANENT, p, "the answer was withheld by the content filter");
    } else if (s->refusal.len) {
        pa_buf_t rt = PA_BUF_INIT;
        llm_excerpt(s->refusal.data, s->refusal.len, 200, &rt);
        llm_res_fail(res, LLM_RES_PERMANENT, p, "the model refused: %s", rt.data);
        pa_buf_free(&rt);
    } else if (s->refused) {
        llm_res_fail(res, LLM_RES_PERMANENT, p, "the model refused to write the message");
    } else if (!s->complete) {
        llm_res_fail(res, LLM_RES_TRANSIENT, p, "the stream ended before its end marker (%s)",
                     p == LLM_PROVIDER_ANTHROPIC ? "message_stop" : "data: [DONE]");
    } else {
        res->kind = LLM_RES_OK;
        res->text = pa_strndup(s->text.data ? s->text.data : "", s->text.len);
        res->prompt_tokens = s->prompt_tokens;
        res->completion_tokens = s->completion_tokens;
    }
}
