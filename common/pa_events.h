/* Reading the job engine's events stream (`<prefix>events`). An entry is either job-level
 * (fields job, state, and total when queued) or a batch of task changes of one job (fields job
 * and tasks: a JSON array of [task, stage, state, attempt] or [task, stage, state, attempt,
 * key, value], key being worker, error or by). Entries written one change each (fields job,
 * task, stage, state, attempt, ...) by earlier versions are read too. See docs/redis-keys.md. */
#ifndef PA_EVENTS_H
#define PA_EVENTS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#define PA_EVENT_MAX_FIELDS 16
#define PA_EVENTS_MAX_BATCH 4096 /* changes read from one entry, at most */

/* One change, as name/value pairs in the order job, task, stage, state, attempt, then the
 * rest (job-level: the entry's own fields). Strings are borrowed for the callback's length. */
typedef struct {
    size_t n;
    const char *k[PA_EVENT_MAX_FIELDS], *v[PA_EVENT_MAX_FIELDS];
    size_t index; /* its place in the entry: 0, 1, ... */
} pa_event_t;

/* The value of name in ev, or NULL. */
const char *pa_event_get(const pa_event_t *ev, const char *name);

/* Calls fn for every change the entry's field list (a [name, value, ...] array) holds, in
 * order. Returns how many, or -1 when the entry is not an events entry (fn not called). */
long pa_events_each(const redisReply *fields, void (*fn)(const pa_event_t *ev, void *ud), void *ud);

#endif
