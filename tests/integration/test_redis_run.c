/* `make run` (scripts/run) with its private Redis: the Redis asks for a password, the password
 * reaches redis-server through its config file and the daemons through REDIS_PASSWORD_FILE, and
 * no process on the machine has it in its arguments (/proc/<pid>/cmdline). Real scripts/run,
 * redis-server, gateway and workers, on free 127.0.0.1 ports, in a temporary VAR_DIR; and the
 * README's first run, which ends with real outcomes on the demo websites scripts/run serves. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../unit/redis_fixture.h"
#include "harness.h"

static pid_t run_pid;
static char var_dir[PATH_MAX];

static void fini(void)
{
    if (run_pid > 0) rf_stop_pid(run_pid, SIGTERM, 30000);
    run_pid = 0;
    if (var_dir[0] && !getenv("PA_KEEP_TMP")) rf_rm_rf(var_dir);
    hr_cleanup();
}

TestSuite(redis_run, .fini = fini, .timeout = 120);

/* The pids of every process whose command line holds s. */
static int processes_with(const char *s, char *who, size_t wholen)
{
    DIR *d = opendir("/proc");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], buf[65536];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0) continue;
        for (ssize_t i = 0; i < len; i++)
            if (!buf[i]) buf[i] = ' ';
        buf[len] = '\0';
        if (strstr(buf, s)) {
            n++;
            snprintf(who, wholen, "pid %.20s: %.120s", e->d_name, buf);
        }
    }
    closedir(d);
    return n;
}

static char log_path[PATH_MAX + 16];

/* A free range of n ports (below the ephemeral range), or 0. */
static int free_range(int n)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int base = 20001 + (int)(((unsigned)getpid() * 7919u + (unsigned)hr_now_ms() * 31u +
                                  (unsigned)attempt * 104729u) %
                                 10000u);
        int ok = 1;
        for (int p = base; p < base + n && ok; p++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
            if (fd >= 0) close(fd);
        }
        if (ok) return base;
    }
    return 0;
}

/* scripts/run on free ports in a temporary VAR_DIR, its demo websites on a free range; returns
 * once it says it is running. The gateway's port in *port, Redis's in *redis_port. */
static void start_run(int *port, int *redis_port)
{
    snprintf(var_dir, sizeof var_dir, "%s/pa-run-XXXXXX", rf_tmpdir());
    cr_assert_not_null(mkdtemp(var_dir));
    int dispatch_port;
    *port = rf_free_port();
    do *redis_port = rf_free_port();
    while (*redis_port == *port);
    do dispatch_port = rf_free_port();
    while (dispatch_port == *port || dispatch_port == *redis_port);
    int demo = free_range(5);
    cr_assert_gt(demo, 0, "no 5 free ports in a row for the demo websites");
    snprintf(log_path, sizeof log_path, "%s/run.log", var_dir);
    const char *env[] = {
        hr_fmt("PATH=%s", getenv("PATH")),
        hr_fmt("HOME=%s", getenv("HOME") ? getenv("HOME") : "/tmp"),
        hr_fmt("PORT=%d", *port),
        hr_fmt("REDIS_PORT=%d", *redis_port),
        hr_fmt("DISPATCH_BIND=tcp://127.0.0.1:%d", dispatch_port),
        hr_fmt("DEMO_SITES_PORT=%d", demo + 1), /* its admin port is the one before */
        hr_fmt("VAR_DIR=%s", var_dir),
        "BIN_DIR=" PA_BIN_DIR,
        "LOG_LEVEL=warn",
        getenv("ASAN_OPTIONS") ? hr_fmt("ASAN_OPTIONS=%s", getenv("ASAN_OPTIONS")) : "PA_X=1",
        NULL,
    };
    int out = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_t parent = getpid();
    run_pid = fork();
    cr_assert_geq(run_pid, 0);
    if (run_pid == 0) {
        rf_child_prepare(parent, out);
        if (chdir(PA_SOURCE_DIR) != 0) _exit(126);
        execle("/bin/bash", "bash", "scripts/run", (char *)NULL, (char *const *)env);
        _exit(127);
    }
    close(out);
    /* up once it says so (demo data loaded, workers started) */
    uint64_t t0 = hr_now_ms();
    while (!strstr(hr_read_file(log_path), "Prospect AI is running")) {
        cr_assert_lt(hr_now_ms() - t0, 90000, "scripts/run did not come up:\n%s",
                     hr_read_file(log_path));
        int st;
        cr_assert_eq(rf_wait_pid(run_pid, 0, &st), 0, "scripts/run exited:\n%s",
                     hr_read_file(log_path));
        hr_sleep_ms(100);
    }
}

/* Stops scripts/run (SIGTERM: it stops what it started) and checks it stopped cleanly, with no
 * sanitizer report from any daemon. */
static void stop_run(void)
{
    int status = rf_stop_pid(run_pid, SIGTERM, 30000);
    run_pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "scripts/run did not stop cleanly:\n%s", hr_read_file(log_path));
    const char *all = hr_read_file(log_path);
    cr_assert(!strstr(all, "Sanitizer") && !strstr(all, "runtime error:"),
              "a daemon reported a sanitizer error:\n%s", all);
}

Test(redis_run, the_private_redis_has_a_password_that_no_command_line_holds)
{
    int port, redis_port;
    start_run(&port, &redis_port);
    const char *log = log_path;
    const char *pw_path = hr_fmt("%s/redis/password", var_dir);
    const char *pw = hr_read_file(pw_path);
    cr_assert_geq(strlen(pw), 32, "no password in %s", pw_path);
    struct stat st;
    cr_assert_eq(stat(pw_path, &st), 0);
    cr_assert_eq(st.st_mode & 077, 0, "%s is readable by others", pw_path);
    cr_assert_eq(stat(hr_fmt("%s/redis/redis.conf", var_dir), &st), 0);
    cr_assert_eq(st.st_mode & 077, 0, "redis.conf is readable by others");
    /* the Redis refuses a client without the password, and takes it with it */
    redisContext *c = redisConnect("127.0.0.1", redis_port);
    cr_assert(c && !c->err);
    redisReply *rep = redisCommand(c, "GET x");
    cr_assert(rep && rep->type == REDIS_REPLY_ERROR && strstr(rep->str, "NOAUTH"),
              "the private Redis answers without a password");
    freeReplyObject(rep);
    rep = redisCommand(c, "AUTH %s", pw);
    cr_assert(rep && rep->type == REDIS_REPLY_STATUS, "AUTH with the password file's password");
    freeReplyObject(rep);
    rep = redisCommand(c, "ZCARD pa:prospects");
    cr_assert(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 2000,
              "the demo data did not reach Redis through the gateway");
    freeReplyObject(rep);
    redisFree(c);
    /* no process (redis-server, gateway, worker, anything) holds it in its arguments */
    char who[512] = "";
    cr_assert_eq(processes_with(pw, who, sizeof who), 0, "a command line holds the password: %s",
                 who);
    cr_assert_null(strstr(hr_read_file(log), pw), "the password reached the output");
    stop_run();
}

/* The README's first run: the first demo prospects' websites are the demo sites scripts/run serves
 * on loopback, so the run ends with real outcomes (a form posted, a CAPTCHA hand-off, a robots.txt
 * skip, a JavaScript-only form) and a refused .example name. */
Test(redis_run, the_demo_run_ends_with_real_outcomes)
{
    int port, redis_port;
    start_run(&port, &redis_port);
    cr_assert(strstr(hr_read_file(log_path), "ALLOWED_PRIVATE_TARGETS"),
              "the allow-list was not said:\n%s", hr_read_file(log_path));
    const char *base = hr_fmt("http://127.0.0.1:%d", port);
    const char *body = "{\"message_template\":\"Hi {{first_name|there}}, a quick note for "
                       "{{company}}.\",\"prospect_ids\":[\"p-000001\",\"p-000002\",\"p-000003\","
                       "\"p-000004\",\"p-000005\"]}";
    hr_resp_t *r =
        hr_http("POST", hr_fmt("%s/api/automation/contact-forms/run", base),
                (const char *[]){"Content-Type: application/json", NULL}, body, strlen(body));
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    const char *jid = hr_jstr(hr_json(r), "job_id");
    uint64_t deadline = hr_now_ms() + 60000;
    for (;;) {
        r = hr_http("GET", hr_fmt("%s/api/jobs/%s", base, jid), NULL, NULL, 0);
        const char *st = hr_jstr(hr_json(r), "status");
        if (st && strcmp(st, "completed") == 0) break;
        cr_assert_lt(hr_now_ms(), deadline, "the demo run did not finish: %s", hr_describe(r));
        hr_sleep_ms(200);
    }
    r = hr_http("GET", hr_fmt("%s/api/jobs/%s/tasks", base, jid), NULL, NULL, 0);
    json_t *tasks = hr_json(r);
    cr_assert_eq(json_array_size(tasks), 5, "%s", hr_describe(r));
    static const char *const want[][2] = {{"succeeded", NULL},
                                          {"captcha_required", "captcha"},
                                          {"skipped", "robots"},
                                          {"skipped", "js_required"},
                                          {"failed", "refused_target"}};
    for (size_t i = 0; i < 5; i++) {
        json_t *t = json_array_get(tasks, i);
        json_t *res = json_object_get(json_object_get(t, "results"), "submit");
        cr_assert_str_eq(hr_jstr(t, "state"), want[i][0], "task %zu: %s", i + 1, hr_jdump(t));
        if (want[i][1])
            cr_assert_str_eq(hr_jstr(res, "reason"), want[i][1], "task %zu: %s", i + 1,
                             hr_jdump(t));
        else cr_assert_str_eq(hr_jstr(res, "outcome"), "submitted", "%s", hr_jdump(t));
    }
    r = hr_http("GET", hr_fmt("%s/api/handoffs", base), NULL, NULL, 0);
    cr_assert_eq(hr_jint(hr_json(r), "total", -1), 1, "%s", hr_describe(r));
    stop_run();
}
