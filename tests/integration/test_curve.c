/* The worker link with CURVE: a worker whose certificate is in CURVE_CLIENTS_DIR joins and
 * runs tasks; a worker with an unknown key never joins; a known key cannot claim another key's
 * worker id; the gateway refuses to start with a non-loopback DISPATCH_BIND and no CURVE, or
 * CURVE without a client directory. Real gateway, workers and Redis. */
#include <criterion/criterion.h>
#include <czmq.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

static hr_redis_t *rd;
static hr_gateway_t *gw;
static pid_t workers[4];
static char dir[256];

static pid_t start_worker(const char *id, const char *service, const char *server_public,
                          const char *secret)
{
    char ep[64], redis[128], wid[64], svc[64], sp[80], cs[80], log[320];
    snprintf(ep, sizeof ep, "GATEWAY_ENDPOINTS=tcp://127.0.0.1:%d", gw->dispatch_port);
    snprintf(redis, sizeof redis, "REDIS_URL=%s", hr_redis_url(rd, 0));
    snprintf(wid, sizeof wid, "WORKER_ID=%s", id);
    snprintf(svc, sizeof svc, "TEST_WORKER_SERVICE=%s", service);
    snprintf(sp, sizeof sp, "CURVE_SERVER_PUBLIC=%s", server_public);
    snprintf(cs, sizeof cs, "CURVE_CLIENT_SECRET=%s", secret);
    snprintf(log, sizeof log, "%s/%s.log", dir, id);
    char *env[] = {ep, redis, wid, svc, sp, cs, "HEARTBEAT_MS=200", "PATH=/usr/bin:/bin", NULL};
    char *argv[] = {PA_BIN_DIR "/prospect-test-worker", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot start the test worker: %s", strerror(rc));
    return pid;
}

static void fini(void)
{
    for (int i = 0; i < 4; i++)
        if (workers[i] > 0) {
            kill(workers[i], SIGKILL);
            waitpid(workers[i], NULL, 0);
            workers[i] = 0;
        }
    hr_cleanup();
    if (dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
        }
    }
}

TestSuite(curve, .fini = fini, .timeout = 60);

/* The ids of the workers /api/workers lists, as one comma-separated string. */
static const char *worker_ids(void)
{
    json_t *w = json_object_get(hr_json(hr_get(gw, "/api/workers")), "workers");
    static char out[256];
    out[0] = '\0';
    size_t i;
    json_t *x;
    json_array_foreach(w, i, x) {
        strncat(out, hr_jstr(x, "id"), sizeof out - strlen(out) - 2);
        strcat(out, ",");
    }
    return out;
}

Test(curve, only_workers_with_an_allowed_certificate_join)
{
    snprintf(dir, sizeof dir, "/tmp/pa-curve-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char clients[300];
    snprintf(clients, sizeof clients, "%s/clients", dir);
    cr_assert_eq(mkdir(clients, 0700), 0);
    zcert_t *server = zcert_new(), *allowed = zcert_new(), *stranger = zcert_new();
    char path[400];
    snprintf(path, sizeof path, "%s/worker.cert", clients);
    cr_assert_eq(zcert_save_public(allowed, path), 0);

    rd = hr_redis_start(NULL);
    char secret[80], cdir[340];
    snprintf(secret, sizeof secret, "CURVE_SERVER_SECRET=%s", zcert_secret_txt(server));
    snprintf(cdir, sizeof cdir, "CURVE_CLIENTS_DIR=%s", clients);
    gw = hr_gateway_start(rd, (const char *[]){secret, cdir, "HEARTBEAT_MS=200", NULL});
    workers[0] =
        start_worker("allowed", "form", zcert_public_txt(server), zcert_secret_txt(allowed));
    workers[1] =
        start_worker("stranger", "form", zcert_public_txt(server), zcert_secret_txt(stranger));

    uint64_t t0 = hr_now_ms();
    while (hr_now_ms() - t0 < 5000 && !strstr(worker_ids(), "allowed,")) hr_sleep_ms(50);
    cr_assert(strstr(worker_ids(), "allowed,"), "the allowed worker did not join: [%s]",
              worker_ids());
    hr_sleep_ms(1000); /* time for the stranger's handshake to have been refused */
    cr_assert_null(strstr(worker_ids(), "stranger"), "a worker with an unknown key joined: [%s]",
                   worker_ids());

    /* the allowed worker runs tasks over the encrypted link */
    hr_resp_t *r = hr_post(gw, "/api/automation/contact-forms/run",
                           "{\"message_template\":\"Hi\",\"sender\":{\"name\":\"S\",\"email\":"
                           "\"s@x.example\"},\"targets\":[\"a.example\",\"b.example\"],"
                           "\"options\":{\"stages\":[\"submit\"]}}");
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    const char *job = hr_fmt("/api/jobs/%s", hr_jstr(hr_json(r), "job_id"));
    json_t *j = NULL;
    t0 = hr_now_ms();
    while (hr_now_ms() - t0 < 10000) {
        j = hr_json(hr_get(gw, job));
        if (!strcmp(hr_jstr(j, "status"), "completed")) break;
        hr_sleep_ms(50);
    }
    cr_assert_str_eq(hr_jstr(j, "status"), "completed", "job did not complete: %s", hr_jdump(j));
    cr_assert_eq(hr_jint(json_object_get(j, "counts"), "succeeded", -1), 2, "%s", hr_jdump(j));
    zcert_destroy(&server);
    zcert_destroy(&allowed);
    zcert_destroy(&stranger);
}

Test(curve, a_bad_server_secret_is_refused_at_start)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_spawn(rd, (const char *[]){"CURVE_SERVER_SECRET=short", NULL});
    cr_assert(hr_gateway_wait_exit(gw, 5000), "the gateway started with a bad CURVE key");
    cr_assert_neq(WEXITSTATUS(gw->status), 0);
    cr_assert(strstr(hr_gateway_output(gw), "CURVE_SERVER_SECRET"), "%s", hr_gateway_output(gw));
}

/* Lines of the gateway's output holding a and b. */
static int lines_with(const char *a, const char *b)
{
    const char *p = hr_gateway_output(gw);
    int n = 0;
    while ((p = strstr(p, a)) != NULL) {
        const char *e = strchr(p, '\n');
        const char *s = p;
        while (s > hr_gateway_output(gw) && s[-1] != '\n') s--;
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char *line = strndup(s, len);
        n += line && strstr(line, b) != NULL;
        free(line);
        p = e ? e : p + strlen(p);
    }
    return n;
}

Test(curve, a_known_key_cannot_take_another_keys_worker_id)
{
    snprintf(dir, sizeof dir, "/tmp/pa-curve-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char clients[300], path[400];
    snprintf(clients, sizeof clients, "%s/clients", dir);
    cr_assert_eq(mkdir(clients, 0700), 0);
    zcert_t *server = zcert_new(), *a = zcert_new(), *b = zcert_new();
    snprintf(path, sizeof path, "%s/a.cert", clients);
    cr_assert_eq(zcert_save_public(a, path), 0);
    snprintf(path, sizeof path, "%s/b.cert", clients);
    cr_assert_eq(zcert_save_public(b, path), 0);
    rd = hr_redis_start(NULL);
    char secret[80], cdir[340];
    snprintf(secret, sizeof secret, "CURVE_SERVER_SECRET=%s", zcert_secret_txt(server));
    snprintf(cdir, sizeof cdir, "CURVE_CLIENTS_DIR=%s", clients);
    gw = hr_gateway_start(rd, (const char *[]){secret, cdir, "HEARTBEAT_MS=200", NULL});
    workers[0] = start_worker("alpha", "form", zcert_public_txt(server), zcert_secret_txt(a));
    uint64_t t0 = hr_now_ms();
    while (hr_now_ms() - t0 < 5000 && lines_with("worker joined", "alpha") < 1) hr_sleep_ms(50);
    cr_assert_eq(lines_with("worker joined", "alpha"), 1, "%s", hr_gateway_output(gw));
    cr_assert_eq(lines_with("worker joined", zcert_public_txt(a)), 1,
                 "the worker's peer is not its key: %s", hr_gateway_output(gw));
    /* alpha (key a) is gone; key b, also allowed, says HELLO as alpha */
    kill(workers[0], SIGKILL);
    waitpid(workers[0], NULL, 0);
    workers[0] = 0;
    hr_sleep_ms(1000);
    workers[1] = start_worker("alpha", "form", zcert_public_txt(server), zcert_secret_txt(b));
    t0 = hr_now_ms();
    while (hr_now_ms() - t0 < 5000 && lines_with("HELLO refused", "alpha") < 1) hr_sleep_ms(50);
    cr_assert_geq(lines_with("HELLO refused", "bound to another CURVE key"), 1, "%s",
                  hr_gateway_output(gw));
    cr_assert_eq(lines_with("worker joined", "alpha"), 1, "key b took alpha's id: %s",
                 hr_gateway_output(gw));
    zcert_destroy(&server);
    zcert_destroy(&a);
    zcert_destroy(&b);
}

Test(curve, a_non_loopback_dispatch_bind_without_curve_is_refused)
{
    rd = hr_redis_start(NULL);
    /* a TEST-NET address: never bound, whatever the gateway does with it */
    gw = hr_gateway_spawn(rd, (const char *[]){"DISPATCH_BIND=tcp://192.0.2.1:5555", NULL});
    cr_assert(hr_gateway_wait_exit(gw, 5000), "the gateway started");
    cr_assert_neq(WEXITSTATUS(gw->status), 0);
    cr_assert(strstr(hr_gateway_output(gw), "without CURVE"), "%s", hr_gateway_output(gw));
}

Test(curve, curve_without_a_client_directory_is_refused)
{
    rd = hr_redis_start(NULL);
    zcert_t *server = zcert_new();
    char secret[80];
    snprintf(secret, sizeof secret, "CURVE_SERVER_SECRET=%s", zcert_secret_txt(server));
    zcert_destroy(&server);
    gw = hr_gateway_spawn(rd, (const char *[]){secret, NULL});
    cr_assert(hr_gateway_wait_exit(gw, 5000), "the gateway started with CURVE and no clients dir");
    cr_assert_neq(WEXITSTATUS(gw->status), 0);
    cr_assert(strstr(hr_gateway_output(gw), "CURVE_CLIENTS_DIR"), "%s", hr_gateway_output(gw));
}
