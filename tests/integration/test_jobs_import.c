/* An import interrupted by a Redis failure says which rows were written, and a retry neither
 * loses nor duplicates rows (issue 9), against a real gateway and a real redis-server that is
 * paused (SIGSTOP) in the middle of a large import of rows with neither id nor email (the rows a
 * retry used to write twice): the 503 problem names the last line up to which every row is
 * written, the lines whose write is unknown and the line from which nothing was written, with
 * the counts so far; once Redis is back, the same import again leaves exactly one prospect per
 * row. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "jobs_fixture.h"
#include "pa_buf.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(jobs_import, .fini = jf_cleanup, .timeout = 120);

#define ROWS 30000

typedef struct {
    const char *body;
    hr_resp_t *resp;
} bg_import_t;

static void *import_thread(void *p)
{
    bg_import_t *b = p;
    b->resp = hr_req(gw, "POST", "/api/prospects/import",
                     (const char *[]){"Content-Type: application/x-ndjson", NULL}, b->body);
    return NULL;
}

Test(jobs_import, an_import_cut_by_redis_says_what_was_written_and_its_retry_writes_each_row_once)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"REDIS_TIMEOUT_MS=300", NULL});
    pa_buf_t body = PA_BUF_INIT;
    for (int i = 1; i <= ROWS; i++)
        pa_buf_printf(&body, "{\"name\":\"Row %d\",\"company\":\"Company %d\"}\n", i, i % 97);
    bg_import_t bg = {.body = hr_fmt("%s", body.data)};
    pa_buf_free(&body);

    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, import_thread, &bg), 0);
    /* Redis stops answering once a few batches are in */
    uint64_t deadline = hr_now_ms() + 30000;
    while (jf_rint(rd, 0, "ZCARD pa:prospects") < 2000 && hr_now_ms() < deadline) hr_sleep_ms(5);
    cr_assert_eq(kill(hr_redis_pid(rd), SIGSTOP), 0);
    pthread_join(th, NULL);
    cr_assert_eq(kill(hr_redis_pid(rd), SIGCONT), 0);

    hr_resp_t *r = bg.resp;
    hr_assert_problem(r, 503, "unavailable", NULL);
    cr_assert(hr_header(r, "Retry-After"), "no Retry-After: %s", hr_describe(r));
    json_t *p = hr_json(r);
    cr_assert(json_is_integer(json_object_get(p, "written_through_line")) &&
                  json_is_array(json_object_get(p, "unconfirmed_lines")) &&
                  json_is_integer(json_object_get(p, "not_written_from_line")) &&
                  json_is_integer(json_object_get(p, "imported")),
              "the 503 does not say which rows were written: %s", hr_describe(r));
    long long through = hr_jint(p, "written_through_line", -1);
    long long from = hr_jint(p, "not_written_from_line", -1);
    long long imported = hr_jint(p, "imported", -1);
    cr_assert_gt(through, 0, "%s", hr_describe(r));
    cr_assert_lt(from, ROWS, "the import was not cut: %s", hr_describe(r));
    /* every row is valid and on its own line: all rows up to `through` were created */
    cr_assert_eq(imported, through, "%s", hr_describe(r));
    size_t nunknown = json_array_size(json_object_get(p, "unconfirmed_lines"));
    cr_assert_leq((long long)nunknown, from - through - 1, "%s", hr_describe(r));

    /* what Redis holds now: at least what was confirmed, nothing from `from` on */
    jf_redis_wait_loaded(rd);
    hr_sleep_ms(300);
    long long held = jf_rint(rd, -1, "ZCARD pa:prospects");
    cr_assert_geq(held, through);
    cr_assert_lt(held, from);

    /* the same import again, once the gateway sees Redis again */
    cr_assert_eq(hr_gateway_wait_ready(gw, 15000, 200), 0, "the gateway did not recover");
    r = hr_req(gw, "POST", "/api/prospects/import",
               (const char *[]){"Content-Type: application/x-ndjson", NULL}, bg.body);
    cr_assert_eq(r->status, 200, "the retry: %s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert_eq(hr_jint(j, "imported", -1) + hr_jint(j, "updated", -1), ROWS, "%s",
                 hr_describe(r));
    cr_assert_eq(hr_jint(j, "updated", -1), held, "the rows written before are updated: %s",
                 hr_describe(r));
    cr_assert_eq(jf_rint(rd, -1, "ZCARD pa:prospects"), ROWS,
                 "after the retry Redis holds %lld prospects for %d rows",
                 jf_rint(rd, -1, "ZCARD pa:prospects"), ROWS);
    /* and the gateway's own list agrees */
    hr_resp_t *l = hr_get(gw, "/api/prospects?limit=1");
    cr_assert_eq(l->status, 200, "%s", hr_describe(l));
    const char *total = hr_header(l, "X-Total-Count");
    cr_assert(total && atoll(total) == ROWS, "X-Total-Count %s", total ? total : "(none)");
}
