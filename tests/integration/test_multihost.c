/* Across hosts without containers: network namespaces as separate hosts on this machine. Redis,
 * the gateway, three prospect-form-worker processes and the fixture websites each run in a
 * namespace of their own, joined by veth pairs to a bridge in the test's namespace on a private
 * 10.x.y.0/24 (x.y from the test's pid, so parallel runs never collide). The worker link is TCP
 * with CURVE and a client allow-list (each worker its own key), Redis needs a password, the HTTP
 * API an API key. Shown:
 *   1. the three workers join over TCP with CURVE;
 *   2. a job of 30 slow sites runs; one worker's link is cut (its veth down) while it holds
 *      tasks: the gateway requeues them after the heartbeat timeout, the job completes, every
 *      task ends once, no site receives two posts;
 *   3. the link returns: that worker joins again and takes tasks of a new job.
 * Needs root and `ip netns` (skipped otherwise). Everything it made (processes, namespaces, the
 * bridge and its veths) is removed in the suite's fini, also when the test fails. */
#include <criterion/criterion.h>
#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "form_fixture.h"

#define NHOSTS 6 /* redis, gateway, 3 workers, sites */
#define H_REDIS 0
#define H_GW 1
#define H_W0 2
#define H_SITES 5
#define NSITES 42 /* 30 for the first job, 12 for the second */
#define SITE_BASE 20001
#define GW_PORT 8080
#define GW_DISPATCH 5555
#define REDIS_PORT 6379
#define REDIS_PASS "mh-redis-9c1f4e7a2b5d8e0f"
#define API_KEY "mh-api-key-5e2a9c7d1f3b8e64"

static const char *ip_bin;
static int made_bridge, made_ns[NHOSTS];
static char bridge[16], ns[NHOSTS][32], veth_in[NHOSTS][16], veth_out[NHOSTS][16], addr[NHOSTS][20],
    net[16];
static hr_gateway_t gw; /* only url for HTTP: the process is an lf_proc_t */

/* Runs a shell command (output to the test's log directory); its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    const char *full = hr_fmt("%s >>'%s/net.log' 2>&1", cmd, lf_tmpdir());
    int rc = system(full);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static void must(int rc, const char *what)
{
    cr_assert_eq(rc, 0, "%s failed:\n%s", what, hr_read_file(hr_fmt("%s/net.log", lf_tmpdir())));
}

static void fini(void)
{
    /* processes first (by PID), then the veths (deleting one end deletes both: a namespace's
     * teardown may lag behind its name's removal), the namespaces, the bridge */
    for (int i = 0; i < lf_nprocs; i++) lf_stop(lf_procs[i], SIGKILL, 2000);
    for (int i = 0; i < NHOSTS; i++)
        if (made_ns[i]) {
            char cmd[512];
            if (veth_out[i][0]) {
                snprintf(cmd, sizeof cmd, "%s link del %s 2>/dev/null", ip_bin, veth_out[i]);
                if (system(cmd) != 0) {
                }
                veth_out[i][0] = '\0';
            }
            snprintf(cmd, sizeof cmd, "%s netns del %s 2>/dev/null", ip_bin, ns[i]);
            if (system(cmd) != 0) {
            }
            made_ns[i] = 0;
        }
    if (made_bridge) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s link del %s 2>/dev/null", ip_bin, bridge);
        if (system(cmd) != 0) {
        }
        made_bridge = 0;
    }
    lf_cleanup();
}

TestSuite(multihost, .fini = fini, .timeout = 90);

static const char *find_ip(void)
{
    static const char *const c[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip", NULL};
    for (int i = 0; c[i]; i++)
        if (access(c[i], X_OK) == 0) return c[i];
    return NULL;
}

/* 1 when a TCP connection to a:port (from the test's namespace) succeeds. */
static int tcp_up(const char *a, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, a, &s.sin_addr);
    int ok = connect(fd, (struct sockaddr *)&s, sizeof s) == 0;
    close(fd);
    return ok;
}

static void wait_tcp(const lf_proc_t *p, const char *a, int port, int ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)ms;
    while (!tcp_up(a, port)) {
        cr_assert(!lf_wait_exit((lf_proc_t *)p, 0), "%s exited:\n%s", p->name, lf_output(p));
        cr_assert_lt(hr_now_ms(), deadline, "%s does not listen on %s:%d:\n%s", p->name, a, port,
                     lf_output(p));
        hr_sleep_ms(20);
    }
}

/* The hosts: namespaces pamh<pid><tag>, each with a veth into the bridge pamhb<pid>. */
static void make_hosts(void)
{
    if (geteuid() != 0) cr_skip_test("not root: network namespaces (ip netns) need root");
    ip_bin = find_ip();
    if (!ip_bin) cr_skip_test("no ip command (iproute2): network namespaces cannot be made");
    int pid = (int)getpid();
    static const char *const tags[NHOSTS] = {"r", "g", "w0", "w1", "w2", "s"};
    for (int i = 0; i < NHOSTS; i++) snprintf(ns[i], sizeof ns[i], "pamh%d%s", pid, tags[i]);
    if (sh("%s netns add %s", ip_bin, ns[0]) != 0)
        cr_skip_test("this machine does not allow network namespaces (ip netns add failed): %s",
                     hr_read_file(hr_fmt("%s/net.log", lf_tmpdir())));
    made_ns[0] = 1;
    /* 10.x.y.0/24 from the pid, moved on while an address of this machine is in it */
    int x = 100 + (pid >> 8) % 100, y = pid & 255;
    for (int tries = 0;; tries++) {
        snprintf(net, sizeof net, "10.%d.%d", x, y);
        if (sh("%s -4 addr | grep -q 'inet %s\\.'", ip_bin, net) != 0 &&
            sh("%s -4 route | grep -q '^%s\\.'", ip_bin, net) != 0)
            break;
        cr_assert_lt(tries, 50, "no free 10.x.y.0/24 subnet");
        y = (y + 1) & 255;
    }
    snprintf(bridge, sizeof bridge, "pamhb%d", pid);
    must(sh("%s link add name %s type bridge", ip_bin, bridge), "ip link add bridge");
    made_bridge = 1;
    must(sh("%s addr add %s.1/24 dev %s && %s link set %s up", ip_bin, net, bridge, ip_bin, bridge),
         "bridge address");
    for (int i = 0; i < NHOSTS; i++) {
        if (!made_ns[i]) {
            must(sh("%s netns add %s", ip_bin, ns[i]), "ip netns add");
            made_ns[i] = 1;
        }
        char vh[16];
        snprintf(vh, sizeof vh, "pamh%d%sh", pid, tags[i]);
        snprintf(veth_out[i], sizeof veth_out[i], "%s", vh);
        snprintf(veth_in[i], sizeof veth_in[i], "pamh%d%sn", pid, tags[i]);
        snprintf(addr[i], sizeof addr[i], "%s.%d", net, 10 + i);
        /* the host end goes with the namespace's end when the namespace is deleted */
        must(sh("%s link add %s type veth peer name %s netns %s", ip_bin, vh, veth_in[i], ns[i]),
             "ip link add veth");
        must(sh("%s link set %s master %s up", ip_bin, vh, bridge), "veth into the bridge");
        must(sh("%s -n %s addr add %s/24 dev %s && %s -n %s link set %s up && %s -n %s link set "
                "lo up",
                ip_bin, ns[i], addr[i], veth_in[i], ip_bin, ns[i], veth_in[i], ip_bin, ns[i]),
             "namespace address");
    }
}

/* argv prefixed with `ip netns exec <ns>` (it execs: the PID is the daemon's). */
static lf_proc_t *spawn_in(int host, const char *name, const char *const *argv,
                           const char *const *env)
{
    const char *av[40] = {ip_bin, "netns", "exec", ns[host]};
    size_t n = 4;
    for (size_t i = 0; argv[i] && n < 39; i++) av[n++] = argv[i];
    av[n] = NULL;
    return lf_spawn(name, av, env);
}

/* ---- HTTP with the API key ------------------------------------------------------------------ */

static const char *const auth[] = {"Authorization: Bearer " API_KEY, NULL};

static json_t *api_get(const char *path)
{
    hr_resp_t *r = hr_req(&gw, "GET", path, auth, NULL);
    cr_assert_eq(r->status, 200, "GET %s: %s", path, hr_describe(r));
    return hr_json(r);
}

/* The worker entry of /api/workers with that id, or NULL. */
static json_t *worker_entry(const char *id)
{
    hr_resp_t *r = hr_req(&gw, "GET", "/api/workers", auth, NULL);
    if (r->status != 200) return NULL;
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(hr_json(r), "workers"), i, w) {
        const char *wid = hr_jstr(w, "id");
        if (wid && strcmp(wid, id) == 0) return w;
    }
    return NULL;
}

static void wait_worker(const char *id, int present, int ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)ms;
    while ((worker_entry(id) != NULL) != present) {
        cr_assert_lt(hr_now_ms(), deadline, "worker %s %s /api/workers after %d ms: %s", id,
                     present ? "is not in" : "is still in", ms, hr_jdump(api_get("/api/workers")));
        hr_sleep_ms(50);
    }
}

/* A run of the bench sites [from, from + n) through the submit stage; the job id. */
static const char *run_sites(int from, int n)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '[');
    for (int i = from; i < from + n; i++)
        pa_buf_printf(&b, "%s{\"url\":\"http://%s:%d/\"}", i > from ? "," : "", addr[H_SITES],
                      SITE_BASE + i);
    pa_buf_putc(&b, ']');
    const char *body =
        hr_fmt("{\"message_template\":\"" FF_TEMPLATE "\",\"sender\":" FF_SENDER
               ",\"targets\":%s,\"options\":{\"enrich\":false,\"stages\":[\"submit\"]}}",
               b.data);
    pa_buf_free(&b);
    hr_resp_t *r = hr_req(&gw, "POST", LF_RUN, auth, body);
    cr_assert_eq(r->status, 202, "POST %s: %s", LF_RUN, hr_describe(r));
    const char *id = hr_jstr(hr_json(r), "job_id");
    cr_assert(id, "%s", hr_describe(r));
    return id;
}

static json_t *wait_completed(const char *jid, int ms)
{
    uint64_t deadline = hr_now_ms() + (uint64_t)ms;
    for (;;) {
        hr_resp_t *r = hr_req(&gw, "GET", hr_fmt("/api/jobs/%s", jid), auth, NULL);
        json_t *j = hr_json(r);
        const char *st = hr_jstr(j, "status");
        if (r->status == 200 && st && strcmp(st, "completed") == 0 && !hr_jnull(j, "finished"))
            return j;
        cr_assert_lt(hr_now_ms(), deadline, "job %s is not completed after %d ms: %s", jid, ms,
                     hr_describe(r));
        hr_sleep_ms(100);
    }
}

static json_t *tasks_of(const char *jid)
{
    /* one page: a job here has at most 30 tasks */
    json_t *t = api_get(hr_fmt("/api/jobs/%s/tasks?limit=100", jid));
    cr_assert(json_is_array(t), "not a task list: %s", hr_jdump(t));
    return t;
}

/* The posts the site bench-<k> received (the fixture's admin API, in the sites' namespace). */
static size_t posts_of(fs_server_t *fs, int k)
{
    hr_resp_t *r = hr_http(
        "GET", hr_fmt("http://%s:%d/admin/posts?site=bench-%d", addr[H_SITES], fs->admin, k), NULL,
        NULL, 0);
    cr_assert_eq(r->status, 200, "GET /admin/posts: %s", hr_describe(r));
    cr_assert(json_is_array(hr_json(r)), "%s", hr_describe(r));
    return json_array_size(hr_json(r));
}

/* ---- the hosts' daemons --------------------------------------------------------------------- */

static void start_redis(void)
{
    const char *conf = hr_fmt("%s/redis.conf", lf_tmpdir());
    FILE *f = fopen(conf, "w");
    cr_assert(f, "%s: %s", conf, strerror(errno));
    fprintf(f, "bind %s\nport %d\nrequirepass %s\nsave \"\"\nappendonly no\ndir %s\n",
            addr[H_REDIS], REDIS_PORT, REDIS_PASS, lf_tmpdir());
    fclose(f);
    const char *v[32];
    lf_envbase(v, 32);
    lf_proc_t *p =
        spawn_in(H_REDIS, "redis", (const char *[]){"/usr/bin/redis-server", conf, NULL}, v);
    wait_tcp(p, addr[H_REDIS], REDIS_PORT, 10000);
}

static const char *redis_url(void)
{
    return hr_fmt("redis://:%s@%s:%d/0", REDIS_PASS, addr[H_REDIS], REDIS_PORT);
}

static const char *allowed_targets(void)
{
    return hr_fmt("%s:%d-%d", addr[H_SITES], SITE_BASE, SITE_BASE + NSITES - 1);
}

static fs_server_t *start_sites(void)
{
    const char *node = lf_find_node();
    if (!node) cr_skip_test("node is not installed: the form-sites fixture server needs it");
    const char *v[32];
    lf_envbase(v, 32);
    lf_proc_t *p = spawn_in(H_SITES, "form-sites",
                            (const char *[]){node, FS_SERVER_JS, "--host", addr[H_SITES],
                                             "--base-port", hr_fmt("%d", SITE_BASE), "--bench",
                                             hr_fmt("%d", NSITES), "--delay-ms", "500", NULL},
                            v);
    static fs_server_t fs;
    uint64_t deadline = hr_now_ms() + 20000;
    while (!strstr(lf_output(p), "{\"admin\":")) {
        cr_assert(!lf_wait_exit(p, 0), "the form-sites server exited:\n%s", lf_output(p));
        cr_assert_lt(hr_now_ms(), deadline, "the form-sites server did not start:\n%s",
                     lf_output(p));
        hr_sleep_ms(20);
    }
    fs.proc = p;
    fs.admin = SITE_BASE - 1;
    fs.base = SITE_BASE;
    fs.nsites = NSITES;
    return &fs;
}

static lf_proc_t *start_gateway(zcert_t *server, const char *clients)
{
    const char *v[64];
    size_t n = lf_envbase(v, 64);
    lf_envset(v, &n, 64, hr_fmt("HOST=%s", addr[H_GW]));
    lf_envset(v, &n, 64, hr_fmt("PORT=%d", GW_PORT));
    lf_envset(v, &n, 64, hr_fmt("DISPATCH_BIND=tcp://%s:%d", addr[H_GW], GW_DISPATCH));
    lf_envset(v, &n, 64, hr_fmt("REDIS_URL=%s", redis_url()));
    lf_envset(v, &n, 64, "API_KEYS=" API_KEY);
    lf_envset(v, &n, 64, hr_fmt("CURVE_SERVER_SECRET=%s", zcert_secret_txt(server)));
    lf_envset(v, &n, 64, hr_fmt("CURVE_CLIENTS_DIR=%s", clients));
    lf_envset(v, &n, 64, hr_fmt("ALLOWED_PRIVATE_TARGETS=%s", allowed_targets()));
    lf_envset(v, &n, 64, "HEARTBEAT_MS=200");
    lf_envset(v, &n, 64, "LOG_LEVEL=info");
    lf_proc_t *p = spawn_in(H_GW, "gateway", (const char *[]){hr_gateway_bin(), NULL}, v);
    memset(&gw, 0, sizeof gw);
    gw.port = GW_PORT;
    gw.dispatch_port = GW_DISPATCH;
    snprintf(gw.url, sizeof gw.url, "http://%s:%d", addr[H_GW], GW_PORT);
    snprintf(gw.log_path, sizeof gw.log_path, "%s", p->log_path);
    uint64_t deadline = hr_now_ms() + 10000;
    for (;;) {
        hr_resp_t *r = hr_req(&gw, "GET", "/api/health", NULL, NULL);
        if (r->status == 200) break;
        cr_assert(!lf_wait_exit(p, 0), "the gateway exited:\n%s", lf_output(p));
        cr_assert_lt(hr_now_ms(), deadline, "the gateway is not healthy: %s\n%s", hr_describe(r),
                     lf_output(p));
        hr_sleep_ms(50);
    }
    return p;
}

static lf_proc_t *start_worker(int k, zcert_t *server, zcert_t *key)
{
    const char *v[64];
    size_t n = lf_envbase(v, 64);
    lf_envset(v, &n, 64, hr_fmt("REDIS_URL=%s", redis_url()));
    lf_envset(v, &n, 64, hr_fmt("GATEWAY_ENDPOINTS=tcp://%s:%d", addr[H_GW], GW_DISPATCH));
    lf_envset(v, &n, 64, hr_fmt("WORKER_ID=form-%d", k));
    lf_envset(v, &n, 64, hr_fmt("CURVE_SERVER_PUBLIC=%s", zcert_public_txt(server)));
    lf_envset(v, &n, 64, hr_fmt("CURVE_CLIENT_SECRET=%s", zcert_secret_txt(key)));
    lf_envset(v, &n, 64, hr_fmt("ALLOWED_PRIVATE_TARGETS=%s", allowed_targets()));
    lf_envset(v, &n, 64, "HEARTBEAT_MS=200");
    lf_envset(v, &n, 64, "RETRY_BASE_MS=50");
    lf_envset(v, &n, 64, "RETRY_CAP_MS=200");
    lf_envset(v, &n, 64, "LOG_LEVEL=info");
    lf_envset(v, &n, 64, "FORM_CONCURRENCY=4");
    lf_envset(v, &n, 64, "FORM_RATE_MS=0");
    lf_envset(v, &n, 64, "FORM_LOCK_MS=2000");
    lf_envset(v, &n, 64, "FORM_TIMEOUT_MS=5000");
    lf_envset(v, &n, 64, "FORM_CONNECT_TIMEOUT_MS=2000");
    lf_envset(v, &n, 64, "FORM_USER_AGENT=ProspectAI/1.0-test (+https://prospect-ai.example/bot)");
    return spawn_in(H_W0 + k, hr_fmt("form-%d", k), (const char *[]){FF_FORM_BIN, NULL}, v);
}

Test(multihost, workers_on_other_hosts_survive_a_cut_link)
{
    make_hosts();
    uint64_t t_start = hr_now_ms();

    /* keys: the gateway's, one per worker, each worker's public key in the allow-list */
    const char *clients = hr_fmt("%s/clients", lf_tmpdir());
    cr_assert_eq(mkdir(clients, 0700), 0, "%s: %s", clients, strerror(errno));
    zcert_t *server = zcert_new(), *keys[3];
    for (int k = 0; k < 3; k++) {
        keys[k] = zcert_new();
        cr_assert_eq(zcert_save_public(keys[k], hr_fmt("%s/form-%d.cert", clients, k)), 0);
    }

    start_redis();
    fs_server_t *fs = start_sites();
    lf_proc_t *gwp = start_gateway(server, clients);
    for (int k = 0; k < 3; k++) start_worker(k, server, keys[k]);

    /* 1. the three join over TCP with CURVE: each under its own key */
    for (int k = 0; k < 3; k++) wait_worker(hr_fmt("form-%d", k), 1, 10000);
    for (int k = 0; k < 3; k++)
        cr_assert_eq(hr_gateway_count_lines(&gw, "worker joined", zcert_public_txt(keys[k])), 1,
                     "form-%d did not join once under its own key:\n%s", k, lf_output(gwp));

    /* 2. 30 slow sites; form-2's link is cut while it holds tasks */
    const char *jid = run_sites(0, 30);
    uint64_t deadline = hr_now_ms() + 15000;
    for (;;) {
        /* load: the tasks the gateway sent it that it has not finished */
        if (hr_jint(worker_entry("form-2"), "load", 0) > 0) break;
        cr_assert_lt(hr_now_ms(), deadline, "form-2 never held a task: %s",
                     hr_jdump(api_get("/api/workers")));
        hr_sleep_ms(20);
    }
    must(sh("%s -n %s link set %s down", ip_bin, ns[H_W0 + 2], veth_in[H_W0 + 2]), "link down");
    uint64_t cut = hr_now_ms();
    /* what form-2 holds now: nothing it does reaches Redis or the gateway any more */
    const char *held[8];
    size_t nheld = 0, i;
    json_t *t;
    json_array_foreach(tasks_of(jid), i, t) {
        const char *wk = hr_jstr(t, "worker"), *st = hr_jstr(t, "state");
        if (wk && st && strcmp(wk, "form-2") == 0 && strcmp(st, "running") == 0 && nheld < 8)
            held[nheld++] = hr_jstr(t, "id");
    }
    cr_assert_gt(nheld, 0, "form-2 held no running task when its link was cut: %s",
                 hr_jdump(tasks_of(jid)));
    wait_worker("form-2", 0, 10000);
    uint64_t lost = hr_now_ms();
    json_t *job = wait_completed(jid, 45000);
    uint64_t done = hr_now_ms();
    cr_assert_geq(hr_gateway_count_lines(&gw, "worker lost", "form-2"), 1,
                  "the gateway never lost form-2:\n%s", lf_output(gwp));

    json_t *tasks = tasks_of(jid);
    cr_assert_eq(json_array_size(tasks), 30, "%s", hr_jdump(job));
    size_t succeeded = 0, uncertain = 0, redone = 0;
    json_array_foreach(tasks, i, t) {
        const char *st = hr_jstr(t, "state"), *wk = hr_jstr(t, "worker");
        for (size_t h = 0; h < nheld; h++)
            if (strcmp(hr_jstr(t, "id"), held[h]) == 0) {
                /* requeued and ended by another worker, on a later attempt */
                cr_expect(wk && strcmp(wk, "form-2") != 0 && hr_jint(t, "attempt", 0) >= 2,
                          "a task form-2 held when cut was not redone elsewhere: %s", hr_jdump(t));
                redone++;
            }
        cr_expect(strcmp(st, "succeeded") == 0 || strcmp(st, "uncertain") == 0,
                  "task %zu ended %s: %s", i, st, hr_jdump(t));
        succeeded += strcmp(st, "succeeded") == 0;
        uncertain += strcmp(st, "uncertain") == 0;
    }
    json_t *counts = json_object_get(job, "counts");
    cr_expect_eq(hr_jint(counts, "succeeded", -1), (long long)succeeded, "%s", hr_jdump(job));
    cr_expect_eq(hr_jint(counts, "uncertain", -1), (long long)uncertain, "%s", hr_jdump(job));
    cr_expect_eq(succeeded + uncertain, 30, "%s", hr_jdump(job));
    for (int k = 0; k < 30; k++)
        cr_expect_leq(posts_of(fs, k), 1, "bench-%d was posted to more than once", k);
    cr_expect_eq(redone, nheld, "tasks form-2 held are missing from the job");

    /* 3. the link returns: form-2 joins again and takes tasks of a new job */
    must(sh("%s -n %s link set %s up", ip_bin, ns[H_W0 + 2], veth_in[H_W0 + 2]), "link up");
    uint64_t up = hr_now_ms();
    wait_worker("form-2", 1, 15000);
    uint64_t rejoined = hr_now_ms();
    const char *jid2 = run_sites(30, 12);
    json_t *job2 = wait_completed(jid2, 30000);
    json_t *tasks2 = tasks_of(jid2);
    cr_assert_eq(json_array_size(tasks2), 12, "%s", hr_jdump(job2));
    size_t by2 = 0;
    json_array_foreach(tasks2, i, t) {
        const char *st = hr_jstr(t, "state");
        cr_expect_str_eq(st, "succeeded", "task %zu: %s", i, hr_jdump(t));
        const char *wk = hr_jstr(t, "worker");
        by2 += wk && strcmp(wk, "form-2") == 0;
    }
    cr_expect_gt(by2, 0, "form-2 took no task of the new job: %s", hr_jdump(tasks2));
    for (int k = 30; k < 42; k++)
        cr_expect_leq(posts_of(fs, k), 1, "bench-%d was posted to more than once", k);
    /* what form-2 still held from the first job (it could commit nothing while cut off) did not
     * end those tasks a second time once its link returned */
    json_t *again = json_object_get(api_get(hr_fmt("/api/jobs/%s", jid)), "counts");
    cr_expect(json_equal(again, counts),
              "the first job's counts changed after form-2 rejoined: %s "
              "then %s",
              hr_jdump(counts), hr_jdump(again));
    for (int k = 0; k < 30; k++)
        cr_expect_leq(posts_of(fs, k), 1, "bench-%d was posted to more than once", k);
    fprintf(stderr,
            "multihost: net %s.0/24; lost %llu ms after the cut, job done %llu ms after; rejoined "
            "%llu ms after the link came back; %zu held by form-2 at the cut; %zu succeeded, %zu "
            "uncertain; form-2 took %zu of "
            "12 new; %llu ms in all\n",
            net, (unsigned long long)(lost - cut), (unsigned long long)(done - lost),
            (unsigned long long)(rejoined - up), nheld, succeeded, uncertain, by2,
            (unsigned long long)(hr_now_ms() - t_start));
    for (int k = 0; k < 3; k++) zcert_destroy(&keys[k]);
    zcert_destroy(&server);
    lf_finish();
}
