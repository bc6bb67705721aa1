/* The TASK message as one typed structure: the gateway fills it and encodes, the worker runtime
 * decodes it. The only place that knows how TASK's documents travel. */
#ifndef PA_TASK_H
#define PA_TASK_H
#include <stddef.h>
#include <stdint.h>

#include "pa_proto.h"

/* Most results one TASK carries (one per earlier stage; common/pa_stages.h declares fewer). */
#define PA_TASK_MAX_RESULTS 16

/* The result of an earlier stage: its name and its JSON document (text, not NUL-terminated). */
typedef struct {
    const char *stage;
    size_t stage_len;
    const char *json;
    size_t json_len;
} pa_task_result_t;

/* Every string is borrowed: from the caller's memory when encoding, from the message when
 * decoding (valid while the message lives). A length of 0 with a non-NULL pointer means
 * strlen when encoding; decoding always sets the lengths, and the strings are NUL-terminated
 * except results' json and stage (which point into the raw msgpack). */
typedef struct {
    const char *task_id; /* "job:task" */
    const char *job_id;
    size_t job_id_len;
    const char *stage;
    const char *lease;
    unsigned attempt;      /* from 1 */
    unsigned max_attempts; /* the stage's limit for this job */
    uint64_t deadline_ms;  /* the lease's expiry, Unix ms */
    const char *target;    /* the normalised target URL; NULL or "" when the task has none */
    size_t target_len;
    const char *input; /* the target's input, a JSON object as text; NULL or empty: "{}" */
    size_t input_len;
    const char *context; /* the job's context (template, sender, options), JSON object; as input */
    size_t context_len;
    size_t nresults;
    pa_task_result_t results[PA_TASK_MAX_RESULTS];
} pa_task_msg_t;

/* A new TASK message holding t (the caller's, to pa_msg_destroy). Never NULL; the bounds are
 * checked when it is encoded (pa_proto_encode, pa_proto_send). */
pa_msg_t *pa_task_msg_encode(const pa_task_msg_t *t);

/* 0 when t's documents are within TASK's bounds (target, input, context, and results as encoded;
 * PA_PROTO_MAX_*), or -1 saying which is not in err: such a task can never be sent, so the
 * sender fails it rather than retrying it. Cheap: lengths only. */
int pa_task_msg_check(const pa_task_msg_t *t, char *err, size_t errlen);

/* Fills out from a decoded TASK message, borrowing its strings. 0, or -1 with the reason in err
 * when m is not a TASK or its results are not a map of at most PA_TASK_MAX_RESULTS distinct
 * stage names (1..16 bytes) to JSON texts. */
int pa_task_msg_decode(const pa_msg_t *m, pa_task_msg_t *out, char *err, size_t errlen);

/* The result of stage in t, or NULL. */
const pa_task_result_t *pa_task_msg_result(const pa_task_msg_t *t, const char *stage);

#endif
