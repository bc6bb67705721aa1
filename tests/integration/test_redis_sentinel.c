/* Redis Sentinel (issue 12, docs: REDIS_SENTINELS, REDIS_MASTER_NAME, REDIS_WAIT_REPLICAS) on
 * real processes, all on 127.0.0.1: a master redis-server (AOF on), one replica (--replicaof) and
 * three sentinels (quorum 2, down-after 1 s, failover-timeout 3 s); the gateway, the llm worker
 * (template provider) and a form worker find the master only through the sentinels (their
 * REDIS_URL names a closed port) and wait for one replica to acknowledge (REDIS_WAIT_REPLICAS=1).
 *
 *   1. A form job over 24 slow fixture sites runs; small jobs and prospects are POSTed all along
 *      (every id that got a 2xx is recorded); the master is SIGKILLed mid-job; the sentinels
 *      promote the replica; the old master is started again and the sentinels make it a replica
 *      of the new one (until then no replica acknowledges: writes are refused). Then: the form
 *      job completes, every task ended once, no site received two posts, every post's claim is on
 *      the new master, every accepted job and prospect exists (the jobs complete), the daemons
 *      talk to the new master, health is 200, prospectctl with the same settings finds it, and
 *      no daemon had a Redis command time out (a WAIT must not hold its connection's other
 *      commands back).
 *   2. Settings refused at start: REDIS_SENTINELS without REDIS_MASTER_NAME (every daemon and
 *      prospectctl), and with a rediss:// or unix:// REDIS_URL.
 *
 * Every process is started by the test and stopped by its PID (lf_cleanup in the suite's fini,
 * also when the test fails). */
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "form_fixture.h"

#define NAME "pa"
#define NSENT 3
#define NSITES 24
#define CTL_BIN PA_BIN_DIR "/prospectctl"
/* a closed port: the address must come from the sentinels */
#define DEAD_URL "REDIS_URL=redis://127.0.0.1:1/0"
#define SMALL_TEMPLATE "Hi {{first_name|there}}, a note for {{company}}."

TestSuite(sentinel, .fini = lf_cleanup, .timeout = 120);

static hr_redis_t *master, *replica;
static int sent_port[NSENT];
static const char *sentinels; /* "127.0.0.1:<p0>,127.0.0.1:<p1>,127.0.0.1:<p2>" */

/* ---- redis and sentinel admin (hiredis, short timeouts) ------------------------------------- */

/* A command on 127.0.0.1:port with 1 s timeouts; NULL when no answer. The caller frees. */
static redisReply *rq(int port, const char *fmt, ...)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return rep;
}

/* The master's port a sentinel names (SENTINEL get-master-addr-by-name), -1 when it does not
 * answer. */
static int master_of(int sport)
{
    redisReply *r = rq(sport, "SENTINEL get-master-addr-by-name " NAME);
    int port = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING)
        port = atoi(r->element[1]->str);
    if (r) freeReplyObject(r);
    return port;
}

/* How many sentinels name port as the master. */
static int sentinels_naming(int port)
{
    int n = 0;
    for (int i = 0; i < NSENT; i++) n += master_of(sent_port[i]) == port;
    return n;
}

/* The value of a field of a flat key/value array (SENTINEL replicas entries), or NULL. */
static const char *kv_field(const redisReply *e, const char *key)
{
    if (!e || e->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < e->elements; i += 2)
        if (e->element[i]->type == REDIS_REPLY_STRING && strcmp(e->element[i]->str, key) == 0 &&
            e->element[i + 1]->type == REDIS_REPLY_STRING)
            return e->element[i + 1]->str;
    return NULL;
}

/* 1 when the sentinel on sport knows the replica on rport (not down) and the other sentinels. */
static int sentinel_ready(int sport, int rport)
{
    int ok = 0;
    redisReply *r = rq(sport, "SENTINEL replicas " NAME);
    if (r && r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements; i++) {
            const char *p = kv_field(r->element[i], "port"), *f = kv_field(r->element[i], "flags");
            if (p && atoi(p) == rport && f && !strstr(f, "down") && !strstr(f, "disconnected"))
                ok = 1;
        }
    if (r) freeReplyObject(r);
    r = rq(sport, "SENTINEL sentinels " NAME);
    ok = ok && r && r->type == REDIS_REPLY_ARRAY && r->elements == NSENT - 1;
    if (r) freeReplyObject(r);
    return ok;
}

/* A field of INFO <section> (harness-owned), or NULL. */
static const char *info_field(int port, const char *section, const char *field)
{
    redisReply *r = rq(port, "INFO %s", section);
    const char *v = NULL;
    if (r && r->type == REDIS_REPLY_STRING && r->str) {
        const char *want = hr_fmt("\n%s:", field), *p = strstr(r->str, want);
        if (!p && strncmp(r->str, want + 1, strlen(want + 1)) == 0) p = r->str - 1;
        if (p) {
            p += strlen(want);
            v = hr_fmt("%.*s", (int)strcspn(p, "\r\n"), p);
        }
    }
    if (r) freeReplyObject(r);
    return v;
}

/* "master", "slave" (ROLE), or NULL when it does not answer. */
static const char *role_of(int port)
{
    redisReply *r = rq(port, "ROLE");
    const char *v = NULL;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_STRING)
        v = hr_fmt("%s", r->element[0]->str);
    if (r) freeReplyObject(r);
    return v;
}

/* 1 when the redis on port is a replica whose link to its master on mport is up. */
static int replica_of(int port, int mport)
{
    const char *role = info_field(port, "replication", "role");
    const char *mp = info_field(port, "replication", "master_port");
    const char *link = info_field(port, "replication", "master_link_status");
    return role && strcmp(role, "slave") == 0 && mp && atoi(mp) == mport && link &&
           strcmp(link, "up") == 0;
}

static long long exists(int port, const char *key)
{
    redisReply *r = rq(port, "EXISTS %s", key);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r) freeReplyObject(r);
    return v;
}

/* KEYS pattern as a JSON array (harness-owned; a test's Redis holds little). */
static json_t *keys_of(int port, const char *pattern)
{
    redisReply *r = rq(port, "KEYS %s", pattern);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY, "KEYS %s on port %d failed", pattern, port);
    json_t *a = hr_jkeep(json_array());
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            json_array_append_new(a, json_string(r->element[i]->str));
    freeReplyObject(r);
    return a;
}

/* The clients of the redis on port that are neither sentinels, nor replication links, nor this
 * test's own connection: the daemons' connections (CLIENT LIST lines, harness-owned). */
static json_t *daemon_clients(int port)
{
    redisReply *r = rq(port, "CLIENT LIST");
    cr_assert(r && r->type == REDIS_REPLY_STRING, "CLIENT LIST on port %d failed", port);
    json_t *a = hr_jkeep(json_array());
    for (const char *p = r->str; *p;) {
        size_t n = strcspn(p, "\r\n");
        const char *line = hr_fmt("%.*s", (int)n, p);
        const char *flags = strstr(line, " flags=");
        int link = flags && (strchr("SM", flags[7]) != NULL);
        if (n && !strstr(line, " name=sentinel-") && !link && !strstr(line, " cmd=client|list"))
            json_array_append_new(a, json_string(line));
        p += n;
        while (*p == '\r' || *p == '\n') p++;
    }
    freeReplyObject(r);
    return a;
}

/* ---- processes ----------------------------------------------------------------------------- */

/* An executable in PATH (absolute), or NULL. */
static const char *in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        const char *cand = hr_fmt("%.*s/%s", (int)n, p, name);
        if (n && access(cand, X_OK) == 0) return cand;
        p += n;
        if (*p == ':') p++;
    }
    return NULL;
}

/* A sentinel monitoring the master on mport, on a free port, with its own writable config (it
 * rewrites it) in its own directory; waits until it answers PING. */
static void start_sentinel(int i, int mport)
{
    const char *bin = in_path("redis-server");
    cr_assert(bin, "redis-server is not in PATH");
    const char *dir = hr_fmt("%s/sentinel-%d", lf_tmpdir(), i);
    cr_assert(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = rf_free_port();
        cr_assert_gt(port, 0, "no free port");
        const char *conf = hr_fmt("%s/sentinel.conf", dir);
        FILE *f = fopen(conf, "w");
        cr_assert(f, "%s: %s", conf, strerror(errno));
        fprintf(f,
                "port %d\nbind 127.0.0.1\ndir %s\nsentinel resolve-hostnames no\n"
                "sentinel monitor " NAME " 127.0.0.1 %d 2\n"
                "sentinel down-after-milliseconds " NAME " 1000\n"
                "sentinel failover-timeout " NAME " 3000\n"
                "sentinel parallel-syncs " NAME " 1\n",
                port, dir, mport);
        fclose(f);
        const char *v[32];
        lf_envbase(v, 32);
        lf_proc_t *p =
            lf_spawn(hr_fmt("sentinel-%d", i), (const char *[]){bin, conf, "--sentinel", NULL}, v);
        uint64_t deadline = hr_now_ms() + 5000;
        while (!rf_redis_answers(port) && !lf_wait_exit(p, 0) && hr_now_ms() < deadline)
            hr_sleep_ms(20);
        if (!p->exited && rf_redis_answers(port)) {
            sent_port[i] = port;
            return;
        }
        lf_stop(p, SIGKILL, 1000); /* the port was taken in between: another one */
    }
    cr_assert_fail("sentinel %d did not start", i);
}

/* Master (AOF on), replica in sync, three sentinels that know the replica and each other. */
static void start_redis_and_sentinels(void)
{
    hr_redis_opts_t mo = {.appendonly = 1, .extra = {"--repl-diskless-sync-delay", "0", NULL}};
    master = hr_redis_start(&mo);
    hr_redis_opts_t ro = {.appendonly = 1,
                          .extra = {"--replicaof", "127.0.0.1", hr_fmt("%d", hr_redis_port(master)),
                                    "--repl-diskless-sync-delay", "0", NULL}};
    replica = hr_redis_start(&ro);
    /* in sync before the sentinels come: their first INFO of the master then names the replica
     * (they ask again only every 10 s) */
    uint64_t deadline = hr_now_ms() + 15000;
    while (!replica_of(hr_redis_port(replica), hr_redis_port(master))) {
        cr_assert_lt(hr_now_ms(), deadline, "the replica is not in sync with the master");
        hr_sleep_ms(50);
    }
    for (int i = 0; i < NSENT; i++) start_sentinel(i, hr_redis_port(master));
    sentinels =
        hr_fmt("127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", sent_port[0], sent_port[1], sent_port[2]);
    deadline = hr_now_ms() + 20000;
    for (int i = 0; i < NSENT; i++)
        while (!sentinel_ready(sent_port[i], hr_redis_port(replica))) {
            cr_assert_lt(hr_now_ms(), deadline,
                         "sentinel %d (port %d) does not know the replica and the other sentinels",
                         i, sent_port[i]);
            hr_sleep_ms(100);
        }
    cr_assert_eq(sentinels_naming(hr_redis_port(master)), NSENT);
}

/* prospectctl with the sentinel settings (REDIS_URL on a closed port), args NULL-terminated;
 * stdout and stderr apart. */
typedef struct {
    int status; /* exit status, 128 + signal */
    const char *out, *err;
} ctl_res_t;

static ctl_res_t ctl(const char *const *env, const char *const *args)
{
    const char *v[32];
    size_t n = lf_envbase(v, 32);
    for (size_t i = 0; env && env[i]; i++) lf_envset(v, &n, 32, env[i]);
    const char *argv[16] = {CTL_BIN};
    size_t k = 1;
    for (size_t i = 0; args[i] && k < 15; i++) argv[k++] = args[i];
    argv[k] = NULL;
    static int seq;
    seq++;
    const char *out_path = hr_fmt("%s/ctl-%d.out", lf_tmpdir(), seq);
    const char *err_path = hr_fmt("%s/ctl-%d.err", lf_tmpdir(), seq);
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert(o >= 0 && e >= 0, "open: %s", strerror(errno));
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(o, 1);
        dup2(e, 2);
        execve(argv[0], (char *const *)argv, (char *const *)v);
        _exit(127);
    }
    close(o);
    close(e);
    int st = 0;
    int rc = rf_wait_pid(pid, 20000, &st);
    if (rc == 0) {
        rf_stop_pid(pid, SIGKILL, 1000);
        cr_assert_fail("prospectctl did not finish in 20 s; stderr: %s", hr_read_file(err_path));
    }
    ctl_res_t res = {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), hr_read_file(out_path),
                     hr_read_file(err_path)};
    cr_assert(!strstr(res.err, "Sanitizer") && !strstr(res.err, "runtime error:"), "%s", res.err);
    return res;
}

/* The lines of a log that hold s, at most 8 (harness-owned; "" when none). */
static const char *lines_with(const char *log, const char *s)
{
    const char *out = "";
    int n = 0;
    for (const char *p = log; *p && n < 8;) {
        size_t len = strcspn(p, "\n");
        const char *line = hr_fmt("%.*s", (int)len, p);
        if (strstr(line, s)) {
            out = hr_fmt("%s%.400s\n", out, line);
            n++;
        }
        p += len;
        if (*p) p++;
    }
    return out;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

/* The targets (a JSON array) of the bench sites [0, n). */
static const char *bench_targets(const fs_server_t *fs, int n)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    for (int i = 0; i < n; i++)
        pa_buf_printf(&b, "%s{\"url\":\"http://127.0.0.1:%d/\"}", i ? "," : "",
                      fs_port(fs, hr_fmt("bench-%d", i)));
    pa_buf_putc(&b, ']');
    const char *targets = hr_fmt("%s", b.data);
    pa_buf_free(&b);
    return targets;
}

/* A small compose-only job of one target. */
static hr_resp_t *post_small_job(const hr_gateway_t *gw, int i)
{
    return hr_post(gw, LF_RUN,
                   hr_fmt("{\"message_template\":\"" SMALL_TEMPLATE "\",\"sender\":{\"name\":"
                          "\"Sam\",\"email\":\"sam@us.example\",\"company\":\"Us Ltd\"},"
                          "\"targets\":[{\"url\":\"https://s%d.example/\",\"name\":\"S%d Lee\","
                          "\"company\":\"Co%d\"}],\"options\":{\"enrich\":false,"
                          "\"stages\":[\"compose\"]}}",
                          i, i, i));
}

static hr_resp_t *post_prospect(const hr_gateway_t *gw, int i)
{
    return hr_post(gw, "/api/prospects",
                   hr_fmt("{\"name\":\"P %d\",\"company\":\"C %d\",\"status\":\"new\","
                          "\"email\":\"p%d@sentinel.example\"}",
                          i, i, i));
}

/* ---- 1. the failover ---------------------------------------------------------------------- */

Test(sentinel, a_failover_mid_job_loses_no_accepted_write_and_posts_no_form_twice)
{
    uint64_t t_start = hr_now_ms();
    fs_server_t *fs =
        fs_server((const char *[]){"--bench", hr_fmt("%d", NSITES), "--delay-ms", "300", NULL});
    start_redis_and_sentinels();
    uint64_t t_ready = hr_now_ms();
    const char *s_env = hr_fmt("REDIS_SENTINELS=%s", sentinels);
    hr_gateway_t *gw = hr_gateway_start(
        NULL, (const char *[]){DEAD_URL, s_env, "REDIS_MASTER_NAME=" NAME, "REDIS_WAIT_REPLICAS=1",
                               "HEARTBEAT_MS=200", "ALLOW_PRIVATE_TARGETS=1", "LEASE_MS=10000",
                               "RUN_RATE_PER_MIN=100000", "RUN_BURST=10000", NULL});
    lf_proc_t *llm = lf_llm_worker(master, gw,
                                   (const char *[]){DEAD_URL, s_env, "REDIS_MASTER_NAME=" NAME,
                                                    "REDIS_WAIT_REPLICAS=1", NULL});
    /* four forms at a time: the job outlasts the failover */
    lf_proc_t *form = ff_worker("form-1", master, gw, fs,
                                (const char *[]){DEAD_URL, s_env, "REDIS_MASTER_NAME=" NAME,
                                                 "REDIS_WAIT_REPLICAS=1", "FORM_RATE_MS=0",
                                                 "FORM_LOCK_MS=2000", "FORM_CONCURRENCY=4", NULL});
    lf_wait_workers(gw, 2);

    /* health shows the replicas it waits for */
    hr_resp_t *h = hr_get(gw, "/api/health");
    cr_assert_eq(h->status, 200, "%s", hr_describe(h));
    cr_expect_eq(hr_jint(json_object_get(hr_json(h), "durability"), "replicas", -1), 1,
                 "health does not show REDIS_WAIT_REPLICAS: %s", hr_describe(h));

    const char *jid = ff_run(gw, bench_targets(fs, NSITES), "");
    const int mport = hr_redis_port(master), rport = hr_redis_port(replica);
    json_t *jobs = hr_jkeep(json_array()), *prospects = hr_jkeep(json_array());
    int refused = 0, unanswered = 0, posts_at_kill = -1, jobs_after = 0, i = 0;
    uint64_t t_job = hr_now_ms(), killed = 0, promoted = 0, restarted = 0, converted = 0,
             first_2xx_after = 0;
    long saved_timeout = hr_http_timeout_ms;
    hr_http_timeout_ms = 5000;
    for (;; i++) {
        hr_resp_t *r = post_small_job(gw, i);
        if (r->status == 202) {
            const char *id = hr_jstr(hr_json(r), "job_id");
            cr_assert(id, "202 without a job_id: %s", hr_describe(r));
            json_array_append_new(jobs, json_string(id));
            if (converted) jobs_after++;
            if (killed && !first_2xx_after) first_2xx_after = hr_now_ms();
        } else if (r->status) {
            cr_assert(r->status == 503, "POST %s during the failover: %s", LF_RUN, hr_describe(r));
            refused++;
        } else {
            unanswered++;
        }
        r = post_prospect(gw, i);
        if (r->status == 201) {
            const char *id = hr_jstr(hr_json(r), "id");
            cr_assert(id, "201 without an id: %s", hr_describe(r));
            json_array_append_new(prospects, json_string(id));
        } else if (r->status) {
            cr_assert(r->status == 503, "POST /api/prospects during the failover: %s",
                      hr_describe(r));
            refused++;
        } else {
            unanswered++;
        }
        uint64_t now = hr_now_ms();
        if (!killed) {
            /* mid-job: some forms posted, the others on their way */
            int posts = (int)json_array_size(fs_posts(fs, NULL));
            if (posts >= 3) {
                hr_redis_kill(master);
                killed = hr_now_ms();
                posts_at_kill = posts;
            }
            cr_assert_lt(now - t_job, 30000, "no form was posted within 30 s");
        } else if (!promoted) {
            if (sentinels_naming(rport) == NSENT) promoted = now;
            else
                cr_assert_lt(now - killed, 30000,
                             "the sentinels did not promote the replica within 30 s: they name "
                             "ports %d, %d, %d",
                             master_of(sent_port[0]), master_of(sent_port[1]),
                             master_of(sent_port[2]));
        } else if (!restarted) {
            /* every sentinel names the new master: the old one comes back as it was (a master
             * with its old data), and the sentinels turn it into a replica */
            hr_redis_restart(master);
            restarted = hr_now_ms();
        } else if (!converted) {
            if (replica_of(mport, rport)) converted = now;
            else
                cr_assert_lt(now - restarted, 45000,
                             "the old master is not a replica of the new one 45 s after its "
                             "restart (role %s)",
                             role_of(mport) ? role_of(mport) : "?");
        } else if (jobs_after >= 3) {
            break;
        } else {
            cr_assert_lt(now - converted, 20000,
                         "no job was accepted within 20 s of a replica being back (%d refused, "
                         "%d unanswered)",
                         refused, unanswered);
        }
        hr_sleep_ms(100);
    }
    hr_http_timeout_ms = saved_timeout;
    uint64_t t_loop = hr_now_ms();
    cr_assert_lt(posts_at_kill, NSITES, "the form job was over before the master was killed");

    /* the form job completes; every task ended once */
    json_t *job = lf_wait_completed(gw, jid, 60000);
    uint64_t t_done = hr_now_ms();
    json_t *tasks = lf_tasks(gw, jid);
    cr_assert_eq(json_array_size(tasks), NSITES, "%s", hr_jdump(job));
    json_t *claims = keys_of(rport, hr_fmt("pa:claim:submit:*"));
    const char *claims_s = hr_jdump(claims);
    /* succeeded, uncertain, failed; uncertain ones that never posted (a claim taken, its post
     * not made, and the claim not given back) */
    size_t k, n_state[3] = {0, 0, 0}, unposted = 0;
    json_t *t;
    json_array_foreach(tasks, k, t) {
        const char *st = hr_jstr(t, "state"), *target = hr_jstr(t, "target");
        cr_assert(st && target, "%s", hr_jdump(t));
        const char *port = strrchr(target, ':');
        cr_assert(port, "%s", hr_jdump(t));
        int site = atoi(port + 1) - fs_port(fs, "bench-0");
        size_t posts = json_array_size(fs_posts(fs, hr_fmt("bench-%d", site)));
        int claimed =
            strstr(claims_s, hr_fmt("127.0.0.1%.*s/", (int)strcspn(port, "/"), port)) != NULL;
        if (strcmp(st, "succeeded") == 0) {
            n_state[0]++;
            cr_expect_eq(posts, 1, "a submitted site got %zu posts: %s", posts, hr_jdump(t));
        } else if (strcmp(st, "uncertain") == 0) {
            n_state[1]++;
            unposted += posts == 0;
            /* a claim an earlier try took: never posted again */
            cr_expect_str_eq(hr_jstr(ff_submit(t), "reason"), "duplicate", "%s", hr_jdump(t));
            cr_expect_leq(posts, 1, "%s", hr_jdump(t));
        } else {
            /* a claim no replica acknowledged is given back and the form not posted: the tries
             * of a task that came while no replica was there may run out */
            n_state[2]++;
            cr_expect_str_eq(st, "failed", "%s", hr_jdump(t));
            cr_expect_str_eq(hr_jstr(ff_submit(t), "reason"), "redis", "%s", hr_jdump(t));
            cr_expect_eq(posts, 0, "a task that failed posted its form: %s", hr_jdump(t));
        }
        /* a post went out only once its claim was on a replica: it survived the failover */
        if (posts)
            cr_expect(claimed,
                      "bench-%d was posted but its claim is not on the new master: "
                      "%s\nclaims: %s",
                      site, hr_jdump(t), claims_s);
    }
    json_t *counts = json_object_get(job, "counts");
    cr_expect_eq(hr_jint(counts, "succeeded", -1), (long long)n_state[0], "%s", hr_jdump(job));
    cr_expect_eq(hr_jint(counts, "uncertain", -1), (long long)n_state[1], "%s", hr_jdump(job));
    cr_expect_eq(hr_jint(counts, "failed", -1), (long long)n_state[2], "%s", hr_jdump(job));
    long long total = 0;
    const char *key;
    json_t *cv;
    json_object_foreach(counts, key, cv) total += json_integer_value(cv);
    cr_expect_eq(total, NSITES, "the counts sum to %lld, not %d: %s", total, NSITES, hr_jdump(job));
    /* no site received two posts */
    for (int s = 0; s < NSITES; s++) {
        size_t posts = json_array_size(fs_posts(fs, hr_fmt("bench-%d", s)));
        cr_expect_leq(posts, 1, "bench-%d was posted to %zu times", s, posts);
    }

    /* every accepted write exists; every accepted job completes */
    cr_assert_gt(json_array_size(jobs), 0, "no job was accepted");
    json_t *id;
    json_array_foreach(jobs, k, id) {
        const char *j = json_string_value(id);
        hr_resp_t *r = hr_get(gw, hr_fmt("/api/jobs/%s", j));
        cr_expect_eq(r->status, 200, "accepted job %s is lost: %s", j, hr_describe(r));
        if (r->status == 200) lf_wait_completed(gw, j, 30000);
        cr_expect_eq(exists(rport, hr_fmt("pa:job:%s", j)), 1, "job %s is not on the new master",
                     j);
    }
    json_array_foreach(prospects, k, id) {
        const char *p = json_string_value(id);
        hr_resp_t *r = hr_get(gw, hr_fmt("/api/prospects/%s", p));
        cr_expect_eq(r->status, 200, "accepted prospect %s is lost: %s", p, hr_describe(r));
        cr_expect_eq(exists(rport, hr_fmt("pa:prospect:%s", p)), 1,
                     "prospect %s is not on the new master", p);
    }

    /* the daemons talk to the new master, none to the old one (now its replica) */
    cr_assert_str_eq(role_of(rport) ? role_of(rport) : "?", "master");
    cr_assert_str_eq(role_of(mport) ? role_of(mport) : "?", "slave");
    json_t *on_new = daemon_clients(rport), *on_old = daemon_clients(mport);
    cr_expect_geq(json_array_size(on_new), 3,
                  "the gateway and the workers are not all connected to the new master: %s",
                  hr_jdump(on_new));
    cr_expect_eq(json_array_size(on_old), 0, "daemons are still connected to the old master: %s",
                 hr_jdump(on_old));
    h = hr_get(gw, "/api/health");
    cr_expect_eq(h->status, 200, "%s", hr_describe(h));
    cr_expect_str_eq(hr_jstr(hr_json(h), "redis") ? hr_jstr(hr_json(h), "redis") : "?", "up", "%s",
                     hr_describe(h));
    /* a write now lands on the new master and reaches the replica */
    hr_resp_t *r = post_prospect(gw, 1000000);
    cr_expect_eq(r->status, 201, "%s", hr_describe(r));
    const char *pid = hr_jstr(hr_json(r), "id");
    if (pid) {
        cr_expect_eq(exists(rport, hr_fmt("pa:prospect:%s", pid)), 1, "not on the new master");
        uint64_t deadline = hr_now_ms() + 5000;
        while (exists(mport, hr_fmt("pa:prospect:%s", pid)) != 1 && hr_now_ms() < deadline)
            hr_sleep_ms(20);
        cr_expect_eq(exists(mport, hr_fmt("pa:prospect:%s", pid)), 1, "not on the replica");
    }

    /* prospectctl with the same settings finds the new master */
    const char *const env[] = {DEAD_URL, s_env, "REDIS_MASTER_NAME=" NAME, NULL};
    ctl_res_t c = ctl(env, (const char *[]){"--json", "job", jid, NULL});
    cr_expect_eq(c.status, 0, "prospectctl job: exit %d\n%s%s", c.status, c.out, c.err);
    json_t *cj = hr_jparse(c.out);
    cr_expect_str_eq(hr_jstr(cj, "status") ? hr_jstr(cj, "status") : "?", "completed",
                     "prospectctl job: %s%s", c.out, c.err);
    c = ctl(env, (const char *[]){"--json", "jobs", "--limit", "0", NULL});
    cr_expect_eq(c.status, 0, "prospectctl jobs: exit %d\n%s", c.status, c.err);
    cr_expect(strstr(c.out, jid) != NULL, "prospectctl jobs does not list %s: %s%s", jid, c.out,
              c.err);

    /* No Redis command timed out: on 127.0.0.1 a server answers or refuses at once (a killed one
     * closes its connections), and WAIT is bounded by its own timeout, under the client's. A
     * timeout means a command waited behind others on its connection (WAITs in a row), and the
     * client then drops the connection with everything else in flight on it. */
    const struct {
        const char *name, *log;
    } logs[] = {{"gateway", hr_gateway_output(gw)},
                {"llm worker", lf_output(llm)},
                {"form worker", lf_output(form)}};
    for (size_t l = 0; l < sizeof logs / sizeof logs[0]; l++) {
        const char *bad = lines_with(logs[l].log, "command timed out");
        cr_expect(!*bad,
                  "the %s had Redis commands time out while a master answered (commands queued "
                  "behind WAITs on one connection?):\n%s",
                  logs[l].name, bad);
    }

    fprintf(stderr,
            "sentinel: setup %llu ms; kill %llu ms into the job (%d of %d posted); promoted %llu "
            "ms after the kill; old master a replica %llu ms after its restart; first 2xx %llu ms "
            "after the kill; form job done %llu ms after the loop; %zu jobs and %zu prospects "
            "accepted, %d refused, %d unanswered; tasks %zu succeeded, %zu uncertain (%zu not "
            "posted), %zu failed; "
            "%llu ms in all\n",
            (unsigned long long)(t_ready - t_start), (unsigned long long)(killed - t_job),
            posts_at_kill, NSITES, (unsigned long long)(promoted - killed),
            (unsigned long long)(converted - restarted),
            (unsigned long long)(first_2xx_after ? first_2xx_after - killed : 0),
            (unsigned long long)(t_done - t_loop), json_array_size(jobs),
            json_array_size(prospects), refused, unanswered, n_state[0], n_state[1], unposted,
            n_state[2], (unsigned long long)(hr_now_ms() - t_start));

    int st = hr_gateway_stop(gw, SIGTERM, 10000);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the gateway did not stop cleanly (%d):\n%s",
              st, hr_gateway_output(gw));
    const char *m = lf_sanitizer_report(hr_gateway_output(gw));
    cr_expect(!m, "the gateway reported a sanitizer error:\n%.6000s", m ? m : "");
    lf_finish();
}

/* ---- 2. settings refused at start --------------------------------------------------------- */

/* A worker binary with the sentinel settings of env; asserts it exits non-zero within 10 s with
 * a message holding want. */
static void worker_refuses(const char *bin, const char *const *env, const char *want)
{
    const char *v[32];
    size_t n = lf_envbase(v, 32);
    lf_envset(v, &n, 32, hr_fmt("GATEWAY_ENDPOINTS=tcp://127.0.0.1:%d", rf_free_port()));
    lf_envset(v, &n, 32, "WORKER_ID=refused-1");
    lf_envset(v, &n, 32, "LOG_LEVEL=info");
    for (size_t i = 0; env[i]; i++) lf_envset(v, &n, 32, env[i]);
    lf_proc_t *p = lf_spawn("refused", (const char *const[]){bin, NULL}, v);
    cr_assert(lf_wait_exit(p, 10000), "%s started:\n%s", bin, lf_output(p));
    cr_assert(WIFEXITED(p->status) && WEXITSTATUS(p->status) != 0, "%s: exit status 0x%x:\n%s", bin,
              p->status, lf_output(p));
    cr_assert(strstr(lf_output(p), want), "%s: the message does not name %s:\n%s", bin, want,
              lf_output(p));
}

static void gateway_refuses(const char *const *env, const char *want, const char *or_want)
{
    hr_gateway_t *g = hr_gateway_spawn(NULL, env);
    cr_assert(hr_gateway_wait_exit(g, 10000), "the gateway started:\n%s", hr_gateway_output(g));
    cr_assert(WIFEXITED(g->status) && WEXITSTATUS(g->status) != 0, "exit status 0x%x:\n%s",
              g->status, hr_gateway_output(g));
    const char *out = hr_gateway_output(g);
    cr_assert(strstr(out, want) || (or_want && strstr(out, or_want)),
              "the message does not name %s:\n%s", want, out);
}

Test(sentinel, sentinels_without_a_master_name_or_with_tls_or_a_socket_are_refused)
{
    const char *s_env = "REDIS_SENTINELS=127.0.0.1:26379,127.0.0.1:26380";
    const char *const no_name[] = {DEAD_URL, s_env, NULL};
    gateway_refuses(no_name, "REDIS_MASTER_NAME", NULL);
    worker_refuses(LF_LLM_BIN, no_name, "REDIS_MASTER_NAME");
    worker_refuses(FF_FORM_BIN, no_name, "REDIS_MASTER_NAME");
    worker_refuses(PA_BIN_DIR "/prospect-mcp-worker", no_name, "REDIS_MASTER_NAME");
    ctl_res_t c = ctl(no_name, (const char *[]){"jobs", NULL});
    cr_assert_neq(c.status, 0, "prospectctl ran without REDIS_MASTER_NAME: %s", c.out);
    cr_assert(strstr(c.err, "REDIS_MASTER_NAME"), "prospectctl: %s", c.err);

    /* TLS and unix sockets are not supported with sentinels: refused, saying so */
    const char *const tls[] = {"REDIS_URL=rediss://127.0.0.1:1/0", s_env, "REDIS_MASTER_NAME=" NAME,
                               NULL};
    gateway_refuses(tls, "REDIS_SENTINELS", "entinel");
    worker_refuses(LF_LLM_BIN, tls, "entinel");
    c = ctl(tls, (const char *[]){"jobs", NULL});
    cr_assert_neq(c.status, 0, "prospectctl ran with rediss:// and sentinels: %s", c.out);
    cr_assert(strstr(c.err, "entinel"), "prospectctl: %s", c.err);
    const char *const sock[] = {hr_fmt("REDIS_URL=unix://%s/redis.sock", lf_tmpdir()), s_env,
                                "REDIS_MASTER_NAME=" NAME, NULL};
    gateway_refuses(sock, "REDIS_SENTINELS", "entinel");
    lf_finish();
}
