/* TASK's typed structure, its encoder and its decoder. results travel as a msgpack map of str
 * keys (stage names) to str values (JSON texts): a stage added to common/pa_stages.h needs no
 * new field, and a worker finds a result without parsing the others. */
#include "pa_task.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pa_buf.h"

static size_t len_of(const char *s, size_t n)
{
    return s && !n ? strlen(s) : n;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Bytes of a msgpack str of n bytes, as put_str writes it. */
static size_t str_size(size_t n)
{
    return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
}

int pa_task_msg_check(const pa_task_msg_t *t, char *err, size_t errlen)
{
    size_t n = len_of(t->target, t->target_len);
    if (n > PA_PROTO_MAX_TARGET)
        return fail(err, errlen,
                    "the task's target of %zu bytes exceeds the %d bytes a TASK carries", n,
                    PA_PROTO_MAX_TARGET);
    n = len_of(t->input, t->input_len);
    if (n > PA_PROTO_MAX_INPUT)
        return fail(err, errlen,
                    "the task's input of %zu bytes exceeds the %d bytes a TASK carries", n,
                    PA_PROTO_MAX_INPUT);
    n = len_of(t->context, t->context_len);
    if (n > PA_PROTO_MAX_CONTEXT)
        return fail(err, errlen,
                    "the job's context of %zu bytes exceeds the %d bytes a TASK carries", n,
                    PA_PROTO_MAX_CONTEXT);
    if (t->nresults > PA_TASK_MAX_RESULTS)
        return fail(err, errlen, "%zu results, a TASK carries at most %d", t->nresults,
                    PA_TASK_MAX_RESULTS);
    n = t->nresults < 16 ? 1 : 3;
    for (size_t i = 0; i < t->nresults; i++)
        n += str_size(len_of(t->results[i].stage, t->results[i].stage_len)) +
             str_size(len_of(t->results[i].json, t->results[i].json_len));
    if (n > PA_PROTO_MAX_RESULTS)
        return fail(err, errlen,
                    "the earlier stages' results of %zu bytes exceed the %d bytes a TASK carries",
                    n, PA_PROTO_MAX_RESULTS);
    return 0;
}

static void put_be(pa_buf_t *b, uint64_t v, int bytes)
{
    unsigned char x[8];
    for (int i = 0; i < bytes; i++) x[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    pa_buf_put(b, x, (size_t)bytes);
}

static void put_map(pa_buf_t *b, size_t n)
{
    unsigned char c;
    if (n < 16) {
        c = (unsigned char)(0x80 | n);
        pa_buf_put(b, &c, 1);
    } else {
        c = 0xde;
        pa_buf_put(b, &c, 1);
        put_be(b, n, 2);
    }
}

static void put_str(pa_buf_t *b, const char *s, size_t n)
{
    unsigned char c;
    if (n < 32) {
        c = (unsigned char)(0xa0 | n);
        pa_buf_put(b, &c, 1);
    } else if (n < 256) {
        c = 0xd9;
        pa_buf_put(b, &c, 1);
        put_be(b, n, 1);
    } else if (n < 65536) {
        c = 0xda;
        pa_buf_put(b, &c, 1);
        put_be(b, n, 2);
    } else {
        c = 0xdb;
        pa_buf_put(b, &c, 1);
        put_be(b, n, 4);
    }
    pa_buf_put(b, s, n);
}

pa_msg_t *pa_task_msg_encode(const pa_task_msg_t *t)
{
    pa_msg_t *m = pa_msg_new(PA_CMD_TASK);
    pa_msg_set_str(m, PA_FIELD_TASK_TASK_ID, t->task_id ? t->task_id : "");
    pa_msg_set_strn(m, PA_FIELD_TASK_JOB_ID, t->job_id ? t->job_id : "",
                    len_of(t->job_id, t->job_id_len));
    pa_msg_set_str(m, PA_FIELD_TASK_STAGE, t->stage ? t->stage : "");
    pa_msg_set_str(m, PA_FIELD_TASK_LEASE, t->lease ? t->lease : "");
    pa_msg_set_uint(m, PA_FIELD_TASK_ATTEMPT, t->attempt);
    pa_msg_set_uint(m, PA_FIELD_TASK_MAX_ATTEMPTS, t->max_attempts);
    pa_msg_set_uint(m, PA_FIELD_TASK_DEADLINE_MS, t->deadline_ms);
    pa_msg_set_strn(m, PA_FIELD_TASK_TARGET, t->target ? t->target : "",
                    len_of(t->target, t->target_len));
    /* a document the engine did not store is an empty object */
    size_t in = len_of(t->input, t->input_len), cn = len_of(t->context, t->context_len);
    pa_msg_set_strn(m, PA_FIELD_TASK_INPUT, in ? t->input : "{}", in ? in : 2);
    pa_msg_set_strn(m, PA_FIELD_TASK_CONTEXT, cn ? t->context : "{}", cn ? cn : 2);
    pa_buf_t r = PA_BUF_INIT;
    size_t n = t->nresults < PA_TASK_MAX_RESULTS ? t->nresults : PA_TASK_MAX_RESULTS;
    put_map(&r, n);
    for (size_t i = 0; i < n; i++) {
        const pa_task_result_t *x = &t->results[i];
        put_str(&r, x->stage, len_of(x->stage, x->stage_len));
        put_str(&r, x->json, len_of(x->json, x->json_len));
    }
    pa_msg_set_any(m, PA_FIELD_TASK_RESULTS, r.data, r.len);
    pa_buf_free(&r);
    return m;
}

/* Reads a msgpack map or str header at p[*i..n); the length it declares goes to *len. The codec
 * checked that the value is well formed; the bounds are checked again all the same. */
static int read_len(const unsigned char *p, size_t n, size_t *i, int want_map, size_t *len)
{
    if (*i >= n) return -1;
    unsigned c = p[(*i)++];
    size_t extra = 0;
    if (want_map) {
        if ((c & 0xf0) == 0x80) return *len = c & 0x0f, 0;
        if (c == 0xde) extra = 2;
        else if (c == 0xdf) extra = 4;
        else return -1;
    } else {
        if ((c & 0xe0) == 0xa0) *len = c & 0x1f, extra = 0;
        else if (c == 0xd9) extra = 1;
        else if (c == 0xda) extra = 2;
        else if (c == 0xdb) extra = 4;
        else return -1;
    }
    if (extra) {
        if (n - *i < extra) return -1;
        uint64_t v = 0;
        for (size_t k = 0; k < extra; k++) v = v << 8 | p[(*i)++];
        *len = (size_t)v;
    }
    if (!want_map && n - *i < *len) return -1;
    return 0;
}

int pa_task_msg_decode(const pa_msg_t *m, pa_task_msg_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!m || pa_msg_cmd(m) != PA_CMD_TASK) return fail(err, errlen, "not a TASK message");
    size_t n;
    out->task_id = pa_msg_str(m, PA_FIELD_TASK_TASK_ID, NULL);
    out->job_id = pa_msg_str(m, PA_FIELD_TASK_JOB_ID, &out->job_id_len);
    out->stage = pa_msg_str(m, PA_FIELD_TASK_STAGE, NULL);
    out->lease = pa_msg_str(m, PA_FIELD_TASK_LEASE, NULL);
    out->attempt = (unsigned)pa_msg_uint(m, PA_FIELD_TASK_ATTEMPT);
    out->max_attempts = (unsigned)pa_msg_uint(m, PA_FIELD_TASK_MAX_ATTEMPTS);
    out->deadline_ms = pa_msg_uint(m, PA_FIELD_TASK_DEADLINE_MS);
    out->target = pa_msg_str(m, PA_FIELD_TASK_TARGET, &out->target_len);
    out->input = pa_msg_str(m, PA_FIELD_TASK_INPUT, &out->input_len);
    out->context = pa_msg_str(m, PA_FIELD_TASK_CONTEXT, &out->context_len);
    const unsigned char *p = pa_msg_any(m, PA_FIELD_TASK_RESULTS, &n);
    if (!out->task_id || !out->job_id || !out->stage || !out->lease || !out->target ||
        !out->input || !out->context || !p)
        return fail(err, errlen, "TASK: a required field has no value");
    size_t i = 0, count;
    if (read_len(p, n, &i, 1, &count) < 0) return fail(err, errlen, "TASK: results is not a map");
    if (count > PA_TASK_MAX_RESULTS)
        return fail(err, errlen, "TASK: results has %zu entries, at most %d", count,
                    PA_TASK_MAX_RESULTS);
    for (size_t k = 0; k < count; k++) {
        pa_task_result_t *r = &out->results[k];
        if (read_len(p, n, &i, 0, &r->stage_len) < 0)
            return fail(err, errlen, "TASK: results key %zu is not a str", k);
        r->stage = (const char *)p + i;
        i += r->stage_len;
        if (r->stage_len < 1 || r->stage_len > 16)
            return fail(err, errlen, "TASK: results key %zu is not a stage name", k);
        for (size_t j = 0; j < k; j++)
            if (out->results[j].stage_len == r->stage_len &&
                memcmp(out->results[j].stage, r->stage, r->stage_len) == 0)
                return fail(err, errlen, "TASK: results names a stage twice");
        if (read_len(p, n, &i, 0, &r->json_len) < 0)
            return fail(err, errlen, "TASK: results value %zu is not a str", k);
        r->json = (const char *)p + i;
        i += r->json_len;
    }
    if (i != n) return fail(err, errlen, "TASK: trailing bytes in results");
    out->nresults = count;
    return 0;
}

const pa_task_result_t *pa_task_msg_result(const pa_task_msg_t *t, const char *stage)
{
    size_t n = strlen(stage);
    for (size_t i = 0; i < t->nresults; i++)
        if (t->results[i].stage_len == n && memcmp(t->results[i].stage, stage, n) == 0)
            return &t->results[i];
    return NULL;
}
