/* A task whose documents are larger than a TASK message carries (docs/protocol.md, TASK) fails
 * for good with a reason, instead of making its worker look unreachable at every try; the worker
 * stays connected and takes the next job. Real gateway, Redis and prospect-test-worker. */
#include <criterion/criterion.h>
#include <string.h>

#include "jobs_fixture.h"
#include "pa_buf.h"

TestSuite(task_limits, .fini = jf_cleanup, .timeout = 60);

#define SUBMIT_ONLY "{\"enrich\":false,\"stages\":[\"submit\"]}"

Test(task_limits, a_task_too_large_for_the_wire_fails_with_a_reason_and_the_worker_stays)
{
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw =
        hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", "MAX_BODY_BYTES=4m", NULL});
    jf_worker_start(rd, "form", "form-1", jf_endpoint(gw), NULL);
    jf_wait_workers(gw, "form", 1, 5000);
    /* 50 variables of 2000 control characters: each stored as \u0001 escapes, 600 KB of input */
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "[{\"url\":\"big.example\",\"variables\":{");
    for (int i = 0; i < 50; i++) {
        pa_buf_printf(&b, "%s\"v%d\":\"", i ? "," : "", i);
        for (int k = 0; k < 2000; k++) pa_buf_puts(&b, "\\u0001");
        pa_buf_puts(&b, "\"");
    }
    pa_buf_puts(&b, "}}]");
    const char *jid = jf_run(gw, jf_body(b.data, SUBMIT_ONLY));
    pa_buf_free(&b);
    json_t *job = jf_wait_status(gw, jid, "completed", 10000);
    cr_assert_eq(jf_count(job, "failed"), 1, "%s", hr_jdump(job));
    json_t *t = jf_hgetall(rd, hr_fmt("pa:task:%s:000001", jid));
    cr_assert_str_eq(hr_jstr(t, "attempt"), "1", "failed at once, not retried: %s", hr_jdump(t));
    const char *err = hr_jstr(t, "error");
    cr_assert(err && strstr(err, "input of") && strstr(err, "exceeds"), "%s", hr_jdump(t));
    /* the worker was not dropped: the next job runs on it */
    jid = jf_run(gw, jf_body(jf_targets(2, "ok", "ok"), SUBMIT_ONLY));
    job = jf_wait_status(gw, jid, "completed", 10000);
    cr_assert_eq(jf_count(job, "succeeded"), 2, "%s", hr_jdump(job));
    jf_finish((hr_gateway_t *const[]){gw, NULL});
}
