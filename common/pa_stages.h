/* The job engine's services and stages, declared once. The C side (pa_stages[], the services the
 * dispatcher knows, the gateway's checks of stage names) and the Lua side (the SVC,
 * MAX_ATTEMPTS_DEFAULT and RESULT_FIELDS tables every script starts with, generated at build
 * time by common/gen_stages.c) both come from these two tables.
 *
 * Adding a stage is one line in PA_STAGE_TABLE (and one in PA_SERVICE_TABLE when its service is
 * new). */
#ifndef PA_STAGES_H
#define PA_STAGES_H
#include <stddef.h>

/* X(service): the worker services, in the order the dispatcher scans them. A service's queue is
 * `<prefix>ready:<service>`. */
#define PA_SERVICE_TABLE(X)                                                                        \
    X(mcp)                                                                                         \
    X(llm)                                                                                         \
    X(form)

/* X(stage, service, default max attempts, kind)
 *   stage          the name in task hashes, events and the API (`result_<stage>` holds its result)
 *   service        the workers that run it (a name from PA_SERVICE_TABLE)
 *   max attempts   tries of the stage before a transient failure fails the task for good, when
 *                  the job does not set its own (the gateway's MAX_ATTEMPTS_<STAGE> does)
 *   kind           RUN: a stage of a campaign run; runs take their stages in this table's order,
 *                  and each later stage receives the results of the earlier ones.
 *                  SEND: a RUN stage whose success is a message sent (the campaign's `sent`).
 *                  CALL: the one stage of a job that answers an API call (POST /api/llm/generate;
 *                  mcp_call: GET /api/mcp/tools, POST /api/mcp/enrich, /search-contacts, /call)
 */
#define PA_STAGE_TABLE(X)                                                                          \
    X(enrich, mcp, 2, RUN)                                                                         \
    X(compose, llm, 3, RUN)                                                                        \
    X(submit, form, 3, SEND)                                                                       \
    X(generate, llm, 3, CALL)                                                                      \
    X(mcp_call, mcp, 2, CALL)

typedef enum {
#define PA_SVC_ENUM_(s) PA_SVC_##s,
    PA_SERVICE_TABLE(PA_SVC_ENUM_)
#undef PA_SVC_ENUM_
        PA_NSERVICES
} pa_service_t;

/* Every stage, runs' and calls' alike: PA_STAGE_enrich, ... */
typedef enum {
#define PA_STAGE_ENUM_(name, svc, max, kind) PA_STAGE_##name,
    PA_STAGE_TABLE(PA_STAGE_ENUM_)
#undef PA_STAGE_ENUM_
        PA_NSTAGES_ALL
} pa_stage_t;

/* Keeps an entry only for some kinds: PA_STAGE_IF_RUN_(kind, x) is x for RUN and SEND stages,
 * nothing for CALL stages; PA_STAGE_IF_SEND_(kind, x) is x for SEND stages only. */
#define PA_STAGE_IF_RUN_RUN(...) __VA_ARGS__
#define PA_STAGE_IF_RUN_SEND(...) __VA_ARGS__
#define PA_STAGE_IF_RUN_CALL(...)
#define PA_STAGE_IF_RUN_(kind, ...) PA_STAGE_IF_RUN_##kind(__VA_ARGS__)
#define PA_STAGE_IF_SEND_RUN(...)
#define PA_STAGE_IF_SEND_SEND(...) __VA_ARGS__
#define PA_STAGE_IF_SEND_CALL(...)
#define PA_STAGE_IF_SEND_(kind, ...) PA_STAGE_IF_SEND_##kind(__VA_ARGS__)

/* The stages of a campaign run, in order. */
enum {
    PA_NSTAGES = 0
#define PA_STAGE_COUNT_(name, svc, max, kind) PA_STAGE_IF_RUN_(kind, +1)
    PA_STAGE_TABLE(PA_STAGE_COUNT_)
#undef PA_STAGE_COUNT_
};

/* A leased task carries the results of the run stages before the last (the last one's result
 * feeds no other stage): `result_<stage>` of pa_stages[0 .. PA_NRESULTS). */
enum { PA_NRESULTS = PA_NSTAGES - 1 };

typedef struct {
    const char *name;
    pa_service_t service;
    int max_attempts; /* default */
    int run;          /* 1: a stage of campaign runs */
    int sends;        /* 1: its success is a message sent */
} pa_stage_info_t;

extern const pa_stage_info_t pa_stage_info[PA_NSTAGES_ALL];
extern const char *const pa_services[PA_NSERVICES];
/* The run stages' names in order (pa_stages[i] is the i-th stage of a full run). */
extern const char *const pa_stages[PA_NSTAGES];

/* The stage's index in pa_stage_info, or -1 for an unknown name. */
int pa_stage_find(const char *name);
/* The index of a run stage in pa_stages, or -1 (unknown, or a CALL stage). */
int pa_stage_run_index(const char *name);
/* The service that runs a stage ("enrich" -> "mcp", ...), or NULL for an unknown stage. */
const char *pa_stage_service(const char *stage);
/* The service's index in pa_services, or -1. */
int pa_service_find(const char *name);
/* The run stages' names for messages ("enrich, compose, submit") in out (len bytes). */
char *pa_stages_list(char *out, size_t len);

#endif
