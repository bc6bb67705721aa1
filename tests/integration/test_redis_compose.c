/* deploy/docker-compose.yml's redis service, run for real without Docker: its command (as compose
 * hands it to /bin/sh, `$$` unescaped) with a stand-in redis-server that adds a free 127.0.0.1
 * port and a temporary directory to the real one's options, and REDIS_PASSWORD in the environment.
 * The Redis it starts asks for the password, runs in protected mode with the AOF on and the fsync
 * asked for, the password is on no command line, the healthcheck passes with it, and the gateway's
 * REDIS_URL carries it. The file is read with python3-yaml. */
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>

#include "../unit/redis_fixture.h"
#include "harness.h"

static char dir[PATH_MAX];
static pid_t redis_pid;

static void fini(void)
{
    if (redis_pid > 0) rf_stop_pid(redis_pid, SIGTERM, 5000);
    redis_pid = 0;
    if (dir[0] && !getenv("PA_KEEP_TMP")) rf_rm_rf(dir);
    hr_cleanup();
}

TestSuite(redis_compose, .fini = fini, .timeout = 60);

/* Writes the redis service's command script, its healthcheck and facts (JSON) into dir. */
static const char extract[] =
    "import json, sys, yaml\n"
    "c = yaml.safe_load(open(sys.argv[1]))\n"
    "r, g = c['services']['redis'], c['services']['gateway']\n"
    "d = sys.argv[2]\n"
    "assert r['entrypoint'] == ['/bin/sh', '-c'], r['entrypoint']\n"
    "un = lambda s: s.replace('$$', '$')\n"
    "open(d + '/command.sh', 'w').write(un(r['command'][0]))\n"
    "h = r['healthcheck']['test']\n"
    "# the string form is CMD-SHELL's (podman-compose wants it with replicas)\n"
    "if not isinstance(h, str):\n"
    "    assert h[0] == 'CMD-SHELL', h\n"
    "    h = h[1]\n"
    "open(d + '/health.sh', 'w').write(un(h))\n"
    "json.dump({'ports': 'ports' in r, 'redis_password': r['environment']['REDIS_PASSWORD'],\n"
    "           'gateway_url': g['environment']['REDIS_URL'],\n"
    "           'command': json.dumps(r['command'])}, open(d + '/facts.json', 'w'))\n";

static int sh_run(const char *script, const char *const *env, const char *log, int wait)
{
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        rf_child_prepare(parent, out);
        execle("/bin/sh", "sh", "-c", script, (char *)NULL, (char *const *)env);
        _exit(127);
    }
    close(out);
    if (!wait) return pid;
    int st = 0;
    cr_assert_eq(rf_wait_pid(pid, 20000, &st), 1, "%s did not finish", script);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    cr_assert_not_null(p, "'%s' not in the compose command:\n%s", from, s);
    return hr_fmt("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

Test(redis_compose, the_redis_service_wants_its_password_and_keeps_it_off_command_lines)
{
    snprintf(dir, sizeof dir, "%s/pa-compose-XXXXXX", rf_tmpdir());
    cr_assert_not_null(mkdtemp(dir));
    const char *log = hr_fmt("%s/out.log", dir);
    const char *py[] = {hr_fmt("PATH=%s", getenv("PATH")), NULL};
    FILE *f = fopen(hr_fmt("%s/extract.py", dir), "w");
    cr_assert_not_null(f);
    fputs(extract, f);
    fclose(f);
    int rc = sh_run(hr_fmt("python3 '%s/extract.py' '%s/deploy/docker-compose.yml' '%s'", dir,
                           PA_SOURCE_DIR, dir),
                    py, log, 1);
    cr_assert_eq(rc, 0, "reading deploy/docker-compose.yml failed:\n%s", hr_read_file(log));
    json_t *facts = hr_jparse(hr_read_file(hr_fmt("%s/facts.json", dir)));
    cr_assert_not_null(facts);
    cr_assert(json_is_false(json_object_get(facts, "ports")), "the redis service publishes a port");
    cr_assert_not_null(strstr(hr_jstr(facts, "redis_password"), "${REDIS_PASSWORD:?"),
                       "REDIS_PASSWORD is not required: %s", hr_jstr(facts, "redis_password"));
    cr_assert_not_null(strstr(hr_jstr(facts, "gateway_url"), ":${REDIS_PASSWORD"),
                       "the gateway's REDIS_URL has no password: %s",
                       hr_jstr(facts, "gateway_url"));
    cr_assert_null(strstr(hr_jstr(facts, "command"), "requirepass\", "),
                   "the password is an argument of redis-server");

    /* stand-ins for redis-server (the real one, with a port, a directory and no snapshots added
     * after the command's own options: the last one given wins) and chown (no root) */
    int port = rf_free_port();
    const char *real = NULL;
    char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin"), *save = NULL;
    for (char *d = strtok_r(path, ":", &save); d && !real; d = strtok_r(NULL, ":", &save))
        if (access(hr_fmt("%s/redis-server", d), X_OK) == 0) real = hr_fmt("%s/redis-server", d);
    free(path);
    cr_assert_not_null(real, "redis-server is not in PATH");
    f = fopen(hr_fmt("%s/redis-server", dir), "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\nexec %s \"$@\" --port %d --bind 127.0.0.1 --dir %s --save ''\n", real,
            port, dir);
    fclose(f);
    f = fopen(hr_fmt("%s/chown", dir), "w");
    cr_assert_not_null(f);
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    chmod(hr_fmt("%s/redis-server", dir), 0755);
    chmod(hr_fmt("%s/chown", dir), 0755);
    const char *pw = hr_fmt("c0mp0se%llx", (unsigned long long)hr_now_ms());
    const char *cmd = hr_read_file(hr_fmt("%s/command.sh", dir));
    cmd = replace(cmd, "/tmp/auth.conf", hr_fmt("%s/auth.conf", dir));
    while (strstr(cmd, "/tmp/auth.conf"))
        cmd = replace(cmd, "/tmp/auth.conf", hr_fmt("%s/auth.conf", dir));
    /* the volume's mount point is the test's directory (redis-server changes into it at once) */
    if (strstr(cmd, "--dir /data")) cmd = replace(cmd, "--dir /data", hr_fmt("--dir %s", dir));
    const char *env[] = {hr_fmt("PATH=%s:%s", dir, getenv("PATH")), hr_fmt("REDIS_PASSWORD=%s", pw),
                         "REDIS_APPENDFSYNC=always", NULL};
    redis_pid = sh_run(cmd, env, log, 0);
    uint64_t t0 = hr_now_ms();
    while (!rf_redis_answers(port)) {
        cr_assert_lt(hr_now_ms() - t0, 5000, "the compose redis did not start:\n%s",
                     hr_read_file(log));
        hr_sleep_ms(20);
    }
    struct stat st;
    cr_assert_eq(stat(hr_fmt("%s/auth.conf", dir), &st), 0);
    cr_assert_eq(st.st_mode & 077, 0, "the password file is readable by others");
    const char *cmdline = hr_read_file(hr_fmt("/proc/%d/cmdline", (int)redis_pid));
    cr_assert_null(strstr(cmdline, pw), "redis-server's command line holds the password");

    redisContext *c = redisConnect("127.0.0.1", port);
    cr_assert(c && !c->err);
    redisReply *rep = redisCommand(c, "GET k");
    cr_assert(rep && rep->type == REDIS_REPLY_ERROR && strstr(rep->str, "NOAUTH"),
              "the compose redis answers without a password");
    freeReplyObject(rep);
    rep = redisCommand(c, "AUTH %s", pw);
    cr_assert(rep && rep->type == REDIS_REPLY_STATUS, "AUTH with REDIS_PASSWORD");
    freeReplyObject(rep);
    const char *want[][2] = {
        {"protected-mode", "yes"}, {"appendonly", "yes"}, {"appendfsync", "always"}};
    for (int i = 0; i < 3; i++) {
        rep = redisCommand(c, "CONFIG GET %s", want[i][0]);
        cr_assert(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2);
        cr_assert_str_eq(rep->element[1]->str, want[i][1], "%s", want[i][0]);
        freeReplyObject(rep);
    }
    redisFree(c);

    /* the healthcheck, pointed at this port: passes with the password, fails without */
    const char *health = hr_read_file(hr_fmt("%s/health.sh", dir));
    health = replace(health, "redis-cli", hr_fmt("redis-cli -p %d", port));
    cr_assert_eq(sh_run(health, env, log, 1), 0, "the healthcheck fails:\n%s", hr_read_file(log));
    const char *wrong[] = {env[0], "REDIS_PASSWORD=wrong", NULL};
    cr_assert_neq(sh_run(health, wrong, log, 1), 0, "the healthcheck passes without the password");
}
