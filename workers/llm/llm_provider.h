/* LLM providers of the compose stage: the prompt, the request body of each wire format
 * (OpenAI chat completions, Anthropic Messages), and the classification of every answer into
 * a message, a transient fault (the job engine retries) or a permanent one.
 *
 * Pure functions over buffers and jansson values: no I/O, no libcurl (so that unit tests link
 * without it). */
#ifndef LLM_PROVIDER_H
#define LLM_PROVIDER_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "llm_template.h"
#include "pa_buf.h"

typedef enum {
    LLM_PROVIDER_TEMPLATE = 0,
    LLM_PROVIDER_OPENAI,
    LLM_PROVIDER_ANTHROPIC
} llm_provider_t;

#define LLM_ANTHROPIC_VERSION "2023-06-01"
#define LLM_DEFAULT_MAX_TOKENS 1024
/* Bounds of what the prompt carries from the task. */
#define LLM_PROMPT_FIELD_MAX 500   /* bytes of one field's value */
#define LLM_PROMPT_ENRICH_MAX 6000 /* bytes of enrichment facts */
#define LLM_PROMPT_ENRICH_DEPTH 4
/* Longest delay taken from a Retry-After header. */
#define LLM_RETRY_AFTER_CAP_MS 3600000L

/* "template", "openai", "anthropic"; -1 when unknown. */
int llm_provider_parse(const char *s, llm_provider_t *out);
const char *llm_provider_name(llm_provider_t p);

/* The endpoint for a base URL: openai: <base>/chat/completions (base as the OpenAI SDKs take
 * it, e.g. https://api.openai.com/v1); anthropic: <base>/v1/messages (e.g.
 * https://api.anthropic.com). A trailing slash of base is ignored. Caller frees. */
char *llm_endpoint(llm_provider_t p, const char *base);
const char *llm_default_base(llm_provider_t p);
const char *llm_default_model(llm_provider_t p);

/* The system and user messages of the prompt (appended). tmpl is the campaign's template, draft
 * the template rendered for this prospect. */
void llm_prompt(const llm_fields_t *f, const char *tmpl, const char *draft, size_t max_chars,
                pa_buf_t *system, pa_buf_t *user);

/* The JSON request body (caller frees). params is job_ctx.options.params or NULL: temperature,
 * top_p, max_tokens, stop and seed pass through when they have the right type and range (the
 * others are ignored; the names of those ignored are appended to ignored, comma-separated, when
 * it is not NULL). stream asks for a streamed answer (Server-Sent Events): "stream": true, and for
 * openai also "stream_options": {"include_usage": true} so that the last chunk carries usage. */
char *llm_request_body(llm_provider_t p, const char *model, const char *system, const char *user,
                       const json_t *params, int stream, pa_buf_t *ignored);

typedef enum { LLM_RES_OK = 0, LLM_RES_TRANSIENT, LLM_RES_PERMANENT } llm_res_kind_t;

typedef struct {
    llm_res_kind_t kind;
    char *text;      /* OK: the model's message, before the guardrails (caller frees) */
    char model[128]; /* OK: the model that answered */
    long prompt_tokens, completion_tokens;
    char reason[600];    /* not OK: why, prefixed by the provider's name */
    long retry_after_ms; /* TRANSIENT: the least delay the server asked for, or 0 */
} llm_res_t;

/* Classifies one HTTP answer: status, body (len bytes), and the Retry-After delay in ms from
 * its headers (0: none). model is the model asked for (used when the answer names none). 429,
 * 408, 409, 5xx, 529 and answers that are not what the format promises are transient; other
 * 4xx, refusals and content filters are permanent. */
void llm_parse_answer(llm_provider_t p, long status, const char *body, size_t len,
                      long retry_after_ms, const char *model, llm_res_t *res);
void llm_res_free(llm_res_t *res);

/* Shared with llm_stream.c. */
/* Sets res->kind and res->reason to "<provider>: " + the formatted text (cut on a UTF-8
 * boundary). */
void llm_res_fail(llm_res_t *res, llm_res_kind_t kind, llm_provider_t p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* res->model from an answer's "model" (ignored unless a non-empty string), as a short excerpt. */
void llm_res_set_model(llm_res_t *res, const json_t *model);
/* A non-negative integer member of o, else 0. */
long llm_json_count(const json_t *o, const char *k);
/* Prompt tokens of an Anthropic usage object: input plus cache creation and cache reads. */
long llm_anthropic_prompt_tokens(const json_t *usage);
/* The message an error answer carries (error.message, error, message), else an excerpt of body
 * (len bytes), else "(empty body)"; appended. */
void llm_error_text(const json_t *j, const char *body, size_t len, pa_buf_t *out);

/* A Retry-After value (delta-seconds or an HTTP date, relative to now) in ms; -1 when it is
 * neither. Capped at LLM_RETRY_AFTER_CAP_MS. */
long llm_retry_after_ms(const char *v, time_t now);

/* Replaces, in place, every occurrence of secret in s (NUL-terminated) and every "sk-..." token
 * of 10 or more characters by "[redacted]" ("***" for a secret shorter than 10 bytes; secrets
 * shorter than 4 bytes are left alone). s never grows. */
void llm_redact(char *s, const char *secret);

/* A short single-line excerpt of untrusted text for an error message (appended): control
 * characters removed, blanks collapsed, at most max bytes on a UTF-8 boundary. */
void llm_excerpt(const char *s, size_t n, size_t max, pa_buf_t *out);

#endif
