/* prospectctl: shared state and helpers of the operator CLI (see prospectctl.c for the usage). */
#ifndef PA_TOOLS_CTL_H
#define PA_TOOLS_CTL_H
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "pa_buf.h"
#include "pa_redis.h"

/* Exit statuses. */
#define CTL_OK 0
#define CTL_ERR 1   /* Redis unreachable or failing, unknown job, task not requeued */
#define CTL_USAGE 2 /* unknown command or option, bad value */

typedef struct {
    pa_redis_t *r;
    const char *prefix;
    int json;  /* --json */
    int color; /* ANSI colours on stdout (a terminal, NO_COLOR unset, TERM not dumb) */
    int width; /* columns of the terminal on stdout; 0 when stdout is not a terminal */
} ctl_t;

/* The options and operands of one command. */
typedef struct {
    long limit; /* -1: the command's default; 0: no limit */
    const char *state;
    const char *job;
    long count; /* watch: stop after this many events; 0: never */
    const char *pos[2];
    int npos;
} ctl_args_t;

/* Commands: each returns an exit status and has printed its output or its error. */
int ctl_cmd_jobs(ctl_t *c, const ctl_args_t *a);
int ctl_cmd_job(ctl_t *c, const ctl_args_t *a);
int ctl_cmd_tasks(ctl_t *c, const ctl_args_t *a);
int ctl_cmd_requeue(ctl_t *c, const ctl_args_t *a);
int ctl_cmd_workers(ctl_t *c, const ctl_args_t *a);
int ctl_cmd_queues(ctl_t *c, const ctl_args_t *a);
int ctl_cmd_dead(ctl_t *c, const ctl_args_t *a);
int ctl_cmd_watch(ctl_t *c, const ctl_args_t *a);
/* robots-check and check-target (ctl_check.c): no Redis; argv[0] is the command's name. */
int ctl_cmd_robots_check(int argc, char **argv);
int ctl_cmd_check_target(int argc, char **argv);

/* ---- Redis ---------------------------------------------------------------------------------- */

/* Checks a reply: NULL (Redis unreachable) and error replies are reported on stderr (naming the
 * URL without its password) and give NULL, the error reply freed. */
redisReply *ctl_check(ctl_t *c, redisReply *rep);
/* Reports that Redis could not be reached (after a failed pipeline read, say). */
void ctl_unreachable(ctl_t *c);
/* The string of a reply element, or NULL for nil and other types. */
const char *ctl_rstr(const redisReply *e);
/* The integer in a string or integer reply element, or def. */
long long ctl_rnum(const redisReply *e, long long def);

/* ---- output ---------------------------------------------------------------------------------- */

/* Prints j (JSON_INDENT(2), or compact when compact) and a newline on stdout; drops j. */
void ctl_print_json(json_t *j, int compact);
/* A JSON string from arbitrary bytes (malformed UTF-8 becomes U+FFFD), or null for NULL. */
json_t *ctl_jstr(const char *s);
/* A JSON integer when s is one, else a string (null for NULL). */
json_t *ctl_jnum(const char *s);
/* An RFC 3339 time in out from wall-clock ms. */
void ctl_fmt_time(unsigned long long ms, char out[25]);
/* A short duration: "850ms", "12.3s", "4m05s", "2h07m", "3d04h". */
void ctl_fmt_age(long long ms, char *out, size_t n);
/* The ANSI colour for a task state or job status (NULL: none). */
const char *ctl_state_color(const char *state);
/* An error message on stderr, prefixed with "prospectctl: ". */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
