/* Message templates of the compose stage, and the guardrails every composed message passes.
 *
 * Pure functions over buffers: no I/O, no globals, nothing kept between calls.
 *
 * Placeholders are {{path}} or {{path|default}} (blanks around path and default are ignored).
 * A path is 1 to 128 of A-Z a-z 0-9 _ . - and is looked up in this order:
 *
 *   sender.<f>      the sender object of the job (name, email, company, phone)
 *   variables.<k>   the target's variable k (names may hold dots: variables.a.b is key "a.b")
 *   enrich.<p>      dotted path p into the enrich stage's result
 *   <k>             the target's variable k, when there is one; else
 *                   first_name, last_name (split from name at the first blank, unless the input
 *                   has them), name, company, industry, title, website, email, prospect_id of
 *                   the target's input; else
 *                   dotted path into the enrich result, e.g. company_info.description
 *
 * A value is a non-empty string, a number, a boolean, or an array of those (joined by ", ");
 * anything else (absent, null, "", an object) is missing: the default is used when the
 * placeholder has one ({{company|}} has an empty one), otherwise rendering fails with an error
 * that names the placeholder. Placeholders do not nest and values are not expanded again.
 *
 * Guardrails (llm_guard), applied to every message whatever wrote it: control characters are
 * removed (tab becomes a space, CR and CRLF become LF, newline is kept), as are bidirectional and
 * zero-width format characters and invalid UTF-8; the text is trimmed; it must not be empty and
 * must not hold an unfilled {{...}}; it is cut to at most max_chars characters (code points) at
 * the last blank before the limit (mid-word only when there is none). */
#ifndef LLM_TEMPLATE_H
#define LLM_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "pa_buf.h"

#define LLM_TEMPLATE_MAX_CHARS 10000
#define LLM_MAX_CHARS_DEFAULT 2000
#define LLM_MAX_CHARS_LIMIT 100000
#define LLM_PATH_MAX 128

/* Where placeholders are looked up; each may be NULL (then nothing is found there). */
typedef struct {
    const json_t *input;  /* the task's input: name, company, ..., variables */
    const json_t *sender; /* job_ctx.sender */
    const json_t *enrich; /* results.enrich */
} llm_fields_t;

/* Renders tmpl (len bytes) into out (appended). 0, or -1 with the reason in err (a template
 * error: not UTF-8, empty, longer than LLM_TEMPLATE_MAX_CHARS, an unclosed or nested or empty
 * placeholder, a bad path, or a missing value without default). Output is bounded (1 MiB). */
int llm_render(const char *tmpl, size_t len, const llm_fields_t *f, pa_buf_t *out, char *err,
               size_t errlen);

/* Applies the guardrails to text (len bytes), writing the clean message to out (replaced);
 * max_chars 0 means no length limit. 0, or -1 with the reason in err (empty, or an unfilled
 * placeholder). */
int llm_guard(const char *text, size_t len, size_t max_chars, pa_buf_t *out, char *err,
              size_t errlen);

/* llm_render then llm_guard: the template provider's message. */
int llm_compose_template(const char *tmpl, size_t len, const llm_fields_t *f, size_t max_chars,
                         pa_buf_t *out, char *err, size_t errlen);

/* The text of one placeholder path (as llm_render resolves it) appended to out: 1 when found,
 * 0 when missing. */
int llm_lookup(const llm_fields_t *f, const char *path, size_t n, pa_buf_t *out);

#endif
