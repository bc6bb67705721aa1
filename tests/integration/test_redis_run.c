/* `make run` (scripts/run) with its private Redis: the Redis asks for a password, the password
 * reaches redis-server through its config file and the daemons through REDIS_PASSWORD_FILE, and
 * no process on the machine has it in its arguments (/proc/<pid>/cmdline). Real scripts/run,
 * redis-server, gateway and llm worker, on free 127.0.0.1 ports, in a temporary VAR_DIR. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <hiredis/hiredis.h>

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

Test(redis_run, the_private_redis_has_a_password_that_no_command_line_holds)
{
    snprintf(var_dir, sizeof var_dir, "%s/pa-run-XXXXXX", rf_tmpdir());
    cr_assert_not_null(mkdtemp(var_dir));
    int port = rf_free_port(), redis_port, dispatch_port;
    do redis_port = rf_free_port();
    while (redis_port == port);
    do dispatch_port = rf_free_port();
    while (dispatch_port == port || dispatch_port == redis_port);
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/run.log", var_dir);
    const char *env[] = {
        hr_fmt("PATH=%s", getenv("PATH")),
        hr_fmt("HOME=%s", getenv("HOME") ? getenv("HOME") : "/tmp"),
        hr_fmt("PORT=%d", port),
        hr_fmt("REDIS_PORT=%d", redis_port),
        hr_fmt("DISPATCH_BIND=tcp://127.0.0.1:%d", dispatch_port),
        hr_fmt("VAR_DIR=%s", var_dir),
        "BIN_DIR=" PA_BIN_DIR,
        "LOG_LEVEL=warn",
        getenv("ASAN_OPTIONS") ? hr_fmt("ASAN_OPTIONS=%s", getenv("ASAN_OPTIONS")) : "PA_X=1",
        NULL,
    };
    int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
    while (!strstr(hr_read_file(log), "Prospect AI is running")) {
        cr_assert_lt(hr_now_ms() - t0, 90000, "scripts/run did not come up:\n%s",
                     hr_read_file(log));
        int st;
        cr_assert_eq(rf_wait_pid(run_pid, 0, &st), 0, "scripts/run exited:\n%s", hr_read_file(log));
        hr_sleep_ms(100);
    }
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
    int status = rf_stop_pid(run_pid, SIGTERM, 30000);
    run_pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "scripts/run did not stop cleanly:\n%s", hr_read_file(log));
    const char *all = hr_read_file(log);
    cr_assert(!strstr(all, "Sanitizer") && !strstr(all, "runtime error:"),
              "a daemon reported a sanitizer error:\n%s", all);
}
