/* Reading the job engine's events stream; see pa_events.h. */
#include "pa_events.h"

#include <jansson.h>
#include <string.h>

static const char *const task_fields[] = {"task", "stage", "state", "attempt"};

const char *pa_event_get(const pa_event_t *ev, const char *name)
{
    for (size_t i = 0; i < ev->n; i++)
        if (strcmp(ev->k[i], name) == 0) return ev->v[i];
    return NULL;
}

static const char *field(const redisReply *f, const char *name)
{
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING &&
            f->element[i + 1]->type == REDIS_REPLY_STRING && strcmp(f->element[i]->str, name) == 0)
            return f->element[i + 1]->str;
    return NULL;
}

long pa_events_each(const redisReply *f, void (*fn)(const pa_event_t *ev, void *ud), void *ud)
{
    if (!f || f->type != REDIS_REPLY_ARRAY) return -1;
    const char *job = field(f, "job"), *tasks = field(f, "tasks");
    if (!job) return -1;
    pa_event_t ev = {0};
    if (!tasks) { /* job-level, or one change written the old way: the fields as they are */
        for (size_t i = 0; i + 1 < f->elements && ev.n < PA_EVENT_MAX_FIELDS; i += 2) {
            if (f->element[i]->type != REDIS_REPLY_STRING ||
                f->element[i + 1]->type != REDIS_REPLY_STRING)
                continue;
            ev.k[ev.n] = f->element[i]->str;
            ev.v[ev.n++] = f->element[i + 1]->str;
        }
        fn(&ev, ud);
        return 1;
    }
    json_error_t je;
    json_t *arr = json_loads(tasks, 0, &je);
    if (!json_is_array(arr) || json_array_size(arr) > PA_EVENTS_MAX_BATCH) {
        json_decref(arr);
        return -1;
    }
    long n = 0;
    size_t i;
    json_t *rec;
    json_array_foreach(arr, i, rec) {
        size_t m = json_array_size(rec);
        if (m != 4 && m != 6) continue;
        ev.n = 0;
        ev.index = i;
        ev.k[ev.n] = "job";
        ev.v[ev.n++] = job;
        int ok = 1;
        for (size_t j = 0; j < m && ok; j++) {
            const char *s = json_string_value(json_array_get(rec, j));
            ok = s != NULL;
            if (j < 4) ev.k[ev.n] = task_fields[j], ev.v[ev.n++] = s;
            else if (j == 4) ev.k[ev.n] = s;
            else ev.v[ev.n++] = s;
        }
        if (!ok) continue;
        fn(&ev, ud);
        n++;
    }
    json_decref(arr);
    return n;
}
