/* prospectctl robots-check and check-target, the real binary: the verdicts, the deciding rule,
 * the exit statuses, TARGET_PORTS and ALLOWED_PRIVATE_TARGETS from the environment, --resolve,
 * usage errors; and no Redis (REDIS_URL points at a closed port). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pa_buf.h"

#define CTL_BIN PA_BIN_DIR "/prospectctl"
#define UA "ProspectAI/1.0 (+https://prospect.example/bot)"

static char dir[] = "/tmp/pa-ctl-checks-XXXXXX";
static char robots[sizeof dir + 16];

static void setup(void)
{
    cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    snprintf(robots, sizeof robots, "%s/robots.txt", dir);
    FILE *f = fopen(robots, "w");
    cr_assert(f);
    fputs("# the fixture's robots.txt\r\n"
          "User-agent: *\r\n"
          "Disallow: /private/\r\n"
          "Allow: /private/open$\r\n"
          "\r\n"
          "User-agent: ProspectAI\r\n"
          "Disallow: /contact\r\n"
          "Allow: /contact-us\r\n"
          "Crawl-delay: 1.5\r\n",
          f);
    fclose(f);
}

static void teardown(void)
{
    unlink(robots);
    rmdir(dir);
    hr_cleanup();
}

TestSuite(ctl_checks, .init = setup, .fini = teardown, .timeout = 60);

typedef struct {
    int status;
    const char *out, *err;
} run_t;

static const char *drain(int fd)
{
    pa_buf_t b = PA_BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) pa_buf_put(&b, chunk, (size_t)n);
    close(fd);
    const char *s = hr_fmt("%s", b.data ? b.data : "");
    pa_buf_free(&b);
    return s;
}

/* Runs prospectctl with argv (NULL-terminated, without the program) and env (NAME=value...,
 * NULL-terminated; the only environment besides PATH and a dead REDIS_URL). */
static run_t ctl(const char *const *args, const char *const *env)
{
    const char *argv[32] = {CTL_BIN};
    size_t n = 1;
    for (; args[n - 1]; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    const char *envp[16] = {"PATH=/usr/bin:/bin", "REDIS_URL=redis://127.0.0.1:1/0"};
    size_t m = 2;
    for (size_t i = 0; env && env[i]; i++) envp[m++] = env[i];
    envp[m] = NULL;
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan) envp[m++] = hr_fmt("ASAN_OPTIONS=%s", asan), envp[m] = NULL;
    int o[2], e[2];
    cr_assert(pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        dup2(o[1], 1);
        dup2(e[1], 2);
        execve(CTL_BIN, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    run_t r;
    r.out = drain(o[0]);
    r.err = drain(e[0]);
    int st;
    cr_assert(waitpid(pid, &st, 0) == pid);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_run(run_t r, int status, const char *out)
{
    cr_expect_eq(r.status, status, "exit %d, expected %d; out: %s err: %s", r.status, status, r.out,
                 r.err);
    cr_expect_str_eq(r.out, out, "out: %s err: %s", r.out, r.err);
}

Test(ctl_checks, robots_check_prints_the_verdict_and_the_deciding_rule)
{
    expect_run(ctl(ARGS("robots-check", robots, UA, "https://example.com/contact"), NULL), 1,
               "disallow\nrule: Disallow: /contact (line 7)\ngroup: User-agent: ProspectAI\n"
               "crawl-delay: 1500 ms\n");
    expect_run(ctl(ARGS("robots-check", robots, UA, "/contact-us"), NULL), 0,
               "allow\nrule: Allow: /contact-us (line 8)\ngroup: User-agent: ProspectAI\n"
               "crawl-delay: 1500 ms\n");
    expect_run(ctl(ARGS("robots-check", robots, UA, "/private/x"), NULL), 0,
               "allow\nrule: no rule matches\ngroup: User-agent: ProspectAI\n"
               "crawl-delay: 1500 ms\n");
    /* another crawler: the * group */
    expect_run(ctl(ARGS("robots-check", robots, "OtherBot/2", "/private/x?y=1"), NULL), 1,
               "disallow\nrule: Disallow: /private/ (line 3)\ngroup: User-agent: *\n");
    expect_run(ctl(ARGS("robots-check", robots, "OtherBot", "/private/open"), NULL), 0,
               "allow\nrule: Allow: /private/open$ (line 4)\ngroup: User-agent: *\n");
    /* an empty file: nothing disallowed */
    run_t r = ctl(ARGS("robots-check", "/dev/null", UA, "/x"), NULL);
    expect_run(r, 0, "allow\nrule: no rule matches\n");
}

Test(ctl_checks, robots_check_status)
{
    expect_run(ctl(ARGS("robots-check", "--status", "503", robots, UA, "/contact-us"), NULL), 1,
               "disallow\nrule: robots.txt answered 503: everything disallowed\n");
    expect_run(ctl(ARGS("robots-check", "--status=404", robots, UA, "/contact"), NULL), 0,
               "allow\nrule: robots.txt answered 404: everything allowed\n");
    expect_run(ctl(ARGS("robots-check", "--status", "0", "/nonexistent", UA, "/"), NULL), 1,
               "disallow\nrule: robots.txt could not be fetched: everything disallowed\n");
    expect_run(ctl(ARGS("robots-check", "--status", "200", robots, UA, "/contact"), NULL), 1,
               "disallow\nrule: Disallow: /contact (line 7)\ngroup: User-agent: ProspectAI\n"
               "crawl-delay: 1500 ms\n");
}

Test(ctl_checks, robots_check_usage)
{
    run_t r = ctl(ARGS("robots-check", robots, UA), NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "usage: prospectctl robots-check"), "%s", r.err);
    r = ctl(ARGS("robots-check", "--status", "abc", robots, UA, "/"), NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--status"), "%s", r.err);
    r = ctl(ARGS("robots-check", "--status"), NULL);
    cr_expect_eq(r.status, 2);
    r = ctl(ARGS("robots-check", "--bogus", robots, UA, "/"), NULL);
    cr_expect_eq(r.status, 2);
    r = ctl(ARGS("robots-check", "/nonexistent/robots.txt", UA, "/"), NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "cannot read /nonexistent/robots.txt"), "%s", r.err);
    r = ctl(ARGS("--help"), NULL);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "robots-check [--status CODE] ROBOTS_FILE USER_AGENT URL") &&
                  strstr(r.out, "check-target [--resolve HOST=ADDR]... URL"),
              "%s", r.out);
}

Test(ctl_checks, check_target_refuses_internal_targets)
{
    static const struct {
        const char *url, *out;
    } t[] = {
        {"http://127.0.0.1/", "refused: host 127.0.0.1 is a loopback address\n"},
        {"http://2130706433/", "refused: host 127.0.0.1 is a loopback address\n"},
        {"http://0x7f.1/", "refused: host 127.0.0.1 is a loopback address\n"},
        {"http://[::ffff:7f00:1]/", "refused: host [::ffff:127.0.0.1] is a loopback address\n"},
        {"http://10.0.0.1/", "refused: host 10.0.0.1 is a private address\n"},
        {"http://169.254.169.254/latest/", "refused: host 169.254.169.254 is a metadata address\n"},
        {"http://localhost:8080/", "refused: host localhost is a special-use domain (localhost)\n"},
        {"http://intranet/", "refused: host intranet is a single-label name\n"},
        {"ftp://example.com/", "refused: scheme ftp is not http or https\n"},
        {"http://user@example.com/", "refused: URL has userinfo (user@host)\n"},
        {"http://example.com:65616/", "refused: port is not a decimal number from 1 to 65535\n"},
        {"http://example.com:22/",
         "refused: port 22 is not an allowed port (80, 443, 8080, 8443)\n"},
        {"http://xn--80ak6aa92e.com/",
         "refused: host xn--80ak6aa92e.com mixes scripts (Cyrillic, Latin)\n"},
        {"http://app\xE2\x80\x8Ble.com/",
         "refused: host app\xE2\x80\x8Ble.com holds an invisible character (U+200B)\n"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        expect_run(ctl(ARGS("check-target", t[i].url), NULL), 1, t[i].out);
}

Test(ctl_checks, check_target_resolve_pins_the_address)
{
    expect_run(
        ctl(ARGS("check-target", "--resolve", "example.com=10.0.0.1", "http://example.com/"), NULL),
        1, "refused: host example.com: 10.0.0.1 is a private address\n");
    expect_run(
        ctl(ARGS("check-target", "--resolve", "EXAMPLE.com=[::1]", "https://example.com/"), NULL),
        1, "refused: host example.com: [::1] is a loopback address\n");
    expect_run(ctl(ARGS("check-target", "--resolve", "example.com=::ffff:192.168.1.1",
                        "https://example.com/"),
                   NULL),
               1, "refused: host example.com: [::ffff:192.168.1.1] is a private address\n");
    expect_run(ctl(ARGS("check-target", "--resolve", "example.com=93.184.215.14",
                        "https://example.com/contact"),
                   NULL),
               0, "allowed\norigin: https://example.com:443\naddress: 93.184.215.14\n");
    /* every address pinned is checked: one internal address refuses the target */
    expect_run(ctl(ARGS("check-target", "--resolve", "example.com=93.184.215.14", "--resolve",
                        "example.com=127.0.0.1", "http://example.com/"),
                   NULL),
               1, "refused: host example.com: 127.0.0.1 is a loopback address\n");
    /* a pin for another name does not apply; an IP literal needs none */
    expect_run(
        ctl(ARGS("check-target", "--resolve=other.com=10.0.0.1", "http://93.184.215.14/"), NULL), 0,
        "allowed\norigin: http://93.184.215.14:80\naddress: 93.184.215.14\n");
    run_t r = ctl(ARGS("check-target", "--resolve", "example.com", "http://example.com/"), NULL);
    cr_expect_eq(r.status, 2);
    r = ctl(ARGS("check-target", "--resolve", "example.com=not-an-ip", "http://example.com/"),
            NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "not-an-ip"), "%s", r.err);
    r = ctl(ARGS("check-target"), NULL);
    cr_expect_eq(r.status, 2);
}

Test(ctl_checks, check_target_reads_the_environment)
{
    const char *const env[] = {"ALLOWED_PRIVATE_TARGETS=127.0.0.1:18400-18499", NULL};
    run_t r = ctl(ARGS("check-target", "http://127.0.0.1:18450/contact"), env);
    expect_run(r, 0, "allowed\norigin: http://127.0.0.1:18450\naddress: 127.0.0.1\n");
    cr_expect(strstr(r.err, "ALLOWED_PRIVATE_TARGETS=127.0.0.1:18400-18499"), "%s", r.err);
    expect_run(ctl(ARGS("check-target", "http://127.0.0.1:18500/"), env), 1,
               "refused: host 127.0.0.1 is a loopback address (127.0.0.1:18500 is not in "
               "ALLOWED_PRIVATE_TARGETS)\n");
    expect_run(ctl(ARGS("check-target", "http://10.0.0.1:18450/"), env), 1,
               "refused: host 10.0.0.1 is a private address (10.0.0.1:18450 is not in "
               "ALLOWED_PRIVATE_TARGETS)\n");
    /* a pinned name resolving to a listed address and port passes the address check */
    expect_run(ctl(ARGS("check-target", "--resolve", "site.example.com=127.0.0.1",
                        "http://site.example.com:8080/"),
                   env),
               1,
               "refused: host site.example.com: 127.0.0.1:8080 is not in ALLOWED_PRIVATE_TARGETS "
               "(a loopback address)\n");
    const char *const ports[] = {"TARGET_PORTS=8000-8100", NULL};
    expect_run(ctl(ARGS("check-target", "http://93.184.215.14:8050/"), ports), 0,
               "allowed\norigin: http://93.184.215.14:8050\naddress: 93.184.215.14\n");
    expect_run(ctl(ARGS("check-target", "https://93.184.215.14/"), ports), 1,
               "refused: port 443 is not an allowed port (8000-8100)\n");
    const char *const bad[] = {"ALLOWED_PRIVATE_TARGETS=127.0.0.1:1,10.0.0.1", NULL};
    r = ctl(ARGS("check-target", "http://example.com/"), bad);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "ALLOWED_PRIVATE_TARGETS: '10.0.0.1'"), "%s", r.err);
}
