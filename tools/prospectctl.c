/* prospectctl: the operator CLI of Prospect AI. It reads the job engine's keys straight from
 * Redis (docs/redis-keys.md) and prints them as tables or JSON; `requeue` is its one write, and
 * it goes through the engine's own requeue script. `robots-check` and `check-target` answer
 * with the form worker's own robots.txt parser and SSRF guard, without Redis (ctl_check.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_table.h"
#include "pa_config.h"
#include "pa_jobs.h"
#include "pa_time.h"

#ifndef PA_VERSION
#define PA_VERSION "dev"
#endif

#define DEFAULT_URL "redis://127.0.0.1:6379/0"
#define DEFAULT_PREFIX "pa:"
#define REDIS_TIMEOUT_MS 3000

static const char usage_text[] =
    "usage: prospectctl [--redis URL] [--prefix P] [--json] COMMAND [ARGS]\n"
    "\n"
    "Shows the job engine's state straight from Redis (docs/redis-keys.md).\n"
    "\n"
    "commands:\n"
    "  jobs [--limit N]                  newest jobs with their task counts (default 20)\n"
    "  job ID                            one job: status, counts per state, stages, times,\n"
    "                                    progress\n"
    "  tasks ID [--state S] [--limit N]  a job's tasks in order, only those in state S when\n"
    "                                    given (default limit 100)\n"
    "  workers                           workers, seconds since last seen (stale after 5 s) and\n"
    "                                    the tasks each holds\n"
    "  queues                            ready queues per service, delayed, in flight, dead\n"
    "  dead [--limit N]                  newest dead letters: tasks that ran out of attempts\n"
    "                                    (default 20)\n"
    "  requeue J:T | J T                 send a failed task round again from its failed stage\n"
    "  watch [--job ID] [--count N]      print state changes as they happen, until Ctrl-C or\n"
    "                                    N events\n"
    "\n"
    "commands without Redis (the form worker's own rules):\n"
    "  robots-check [--status CODE] ROBOTS_FILE USER_AGENT URL\n"
    "                                    may the form worker fetch URL under that robots.txt\n"
    "                                    (a file, - for stdin)? (URL: a whole URL or a path)\n"
    "                                    prints allow or disallow and the deciding rule;\n"
    "                                    --status: the HTTP status robots.txt came with\n"
    "                                    (4xx allows all, 5xx or 0 = unreachable disallows all)\n"
    "  check-target [--resolve HOST=ADDR]... URL\n"
    "                                    would the SSRF guard let the worker reach URL? prints\n"
    "                                    allowed or refused: REASON; checks every address the\n"
    "                                    host resolves to (--resolve pins one, as curl's does);\n"
    "                                    reads TARGET_PORTS and ALLOWED_PRIVATE_TARGETS\n"
    "\n"
    "options:\n"
    "  --redis URL   redis[s]://[user@]host[:port][/db] or unix:///path, without a password\n"
    "                (default $REDIS_URL, else " DEFAULT_URL ")\n"
    "  --prefix P    key prefix (default $REDIS_PREFIX, else " DEFAULT_PREFIX ")\n"
    "  --json        JSON instead of tables (watch: one object per line)\n"
    "  --limit 0     no limit\n"
    "  -h, --help    this text; --version prints the version\n"
    "\n"
    "task states: queued running succeeded failed retry_wait captcha_required skipped\n"
    "             uncertain cancelled\n"
    "\n"
    "The password is never taken from the command line (every user of the machine can read a\n"
    "process's arguments): it comes from REDIS_URL in the environment\n"
    "(redis[s]://[user]:password@host...) or from the file named by REDIS_PASSWORD_FILE.\n"
    "rediss:// (TLS) reads REDIS_TLS_CA, REDIS_TLS_CERT, REDIS_TLS_KEY, REDIS_TLS_SERVER_NAME.\n"
    "\n"
    "exit status: 0 done; 1 Redis unreachable or failing, unknown job or task, task not\n"
    "             requeued, disallow, refused; 2 bad usage\n";

/* ---- helpers shared by the commands (ctl.h) ---------------------------------------------- */

void ctl_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("prospectctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void ctl_unreachable(ctl_t *c)
{
    const char *why = pa_redis_errstr(c->r);
    if (strncmp(why, "redis: ", 7) == 0) why += 7;
    ctl_err("cannot reach Redis at %s: %s", pa_redis_url_safe(c->r), *why ? why : "no answer");
}

redisReply *ctl_check(ctl_t *c, redisReply *rep)
{
    if (!rep) {
        ctl_unreachable(c);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        ctl_err("Redis at %s answered: %s", pa_redis_url_safe(c->r), rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

const char *ctl_rstr(const redisReply *e)
{
    if (!e) return NULL;
    if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) return e->str;
    return NULL;
}

long long ctl_rnum(const redisReply *e, long long def)
{
    if (!e) return def;
    if (e->type == REDIS_REPLY_INTEGER) return e->integer;
    const char *s = ctl_rstr(e);
    if (!s || !*s) return def;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return (*end || errno) ? def : v;
}

void ctl_print_json(json_t *j, int compact)
{
    json_dumpf(j, stdout, compact ? JSON_COMPACT : JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(j);
}

json_t *ctl_jstr(const char *s)
{
    if (!s) return json_null();
    size_t n = strlen(s);
    json_t *j = json_stringn(s, n);
    if (j) return j;
    pa_buf_t b = PA_BUF_INIT; /* malformed UTF-8: each bad byte becomes U+FFFD */
    for (size_t i = 0; i < n;) {
        size_t k = ctl_utf8_seq(s + i, n - i);
        if (k) pa_buf_put(&b, s + i, k);
        else pa_buf_puts(&b, "\xef\xbf\xbd");
        i += k ? k : 1;
    }
    j = json_stringn(b.data ? b.data : "", b.len);
    pa_buf_free(&b);
    return j ? j : json_null();
}

json_t *ctl_jnum(const char *s)
{
    if (!s) return json_null();
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end && !errno) return json_integer(v);
    return ctl_jstr(s);
}

void ctl_fmt_time(unsigned long long ms, char out[25])
{
    pa_time_rfc3339((uint64_t)ms, out);
}

void ctl_fmt_age(long long ms, char *out, size_t n)
{
    if (ms < 0) ms = 0;
    long long s = ms / 1000;
    if (ms < 1000) snprintf(out, n, "%lldms", ms);
    else if (s < 60) snprintf(out, n, "%.1fs", (double)ms / 1000.0);
    else if (s < 3600) snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400) snprintf(out, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else snprintf(out, n, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

const char *ctl_state_color(const char *state)
{
    static const struct {
        const char *state, *sgr;
    } map[] = {{"succeeded", "32"}, {"completed", "32"},  {"failed", "31"},
               {"running", "36"},   {"retry_wait", "33"}, {"captcha_required", "33"},
               {"uncertain", "33"}, {"stale", "33"},      {"skipped", "2"},
               {"cancelled", "2"}};
    if (!state) return NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(state, map[i].state) == 0) return map[i].sgr;
    return NULL;
}

/* ---- command line ------------------------------------------------------------------------- */

enum { OPT_LIMIT = 1u, OPT_STATE = 2u, OPT_JOB = 4u, OPT_COUNT = 8u };

typedef struct {
    const char *name;
    int (*fn)(ctl_t *, const ctl_args_t *);
    unsigned opts;
    int minpos, maxpos;
} cmd_t;

static const cmd_t commands[] = {
    {"jobs", ctl_cmd_jobs, OPT_LIMIT, 0, 0},
    {"job", ctl_cmd_job, 0, 1, 1},
    {"tasks", ctl_cmd_tasks, OPT_LIMIT | OPT_STATE, 1, 1},
    {"workers", ctl_cmd_workers, 0, 0, 0},
    {"queues", ctl_cmd_queues, 0, 0, 0},
    {"dead", ctl_cmd_dead, OPT_LIMIT, 0, 0},
    {"requeue", ctl_cmd_requeue, 0, 1, 2},
    {"watch", ctl_cmd_watch, OPT_JOB | OPT_COUNT, 0, 0},
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("prospectctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n\n", stderr);
    va_end(ap);
    fputs(usage_text, stderr);
    return CTL_USAGE;
}

static int parse_count(const char *opt, const char *v, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < 0 || n > max)
        return usage_error("%s wants a whole number from 0 to %ld, not '%s'", opt, max, v);
    *out = n;
    return 0;
}

typedef struct {
    const char *url, *prefix;
    int json;
    const cmd_t *cmd;
    unsigned seen; /* OPT_* given */
    ctl_args_t a;
} cli_t;

/* 0, or an exit status (-1: help or version was printed, exit 0). */
static int parse_args(int argc, char **argv, cli_t *cli)
{
    int operands_only = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!operands_only && strcmp(arg, "--") == 0) {
            operands_only = 1;
            continue;
        }
        if (!operands_only && arg[0] == '-' && arg[1]) {
            char name[32];
            const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
            size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
            if (nlen >= sizeof name) return usage_error("unknown option '%s'", arg);
            memcpy(name, arg, nlen);
            name[nlen] = '\0';
            const char *val = eq ? eq + 1 : NULL;
            if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "--version") ||
                !strcmp(name, "--json")) {
                if (val) return usage_error("%s takes no value", name);
                if (!strcmp(name, "--json")) {
                    cli->json = 1;
                    continue;
                }
                if (!strcmp(name, "--version")) printf("prospectctl %s\n", PA_VERSION);
                else fputs(usage_text, stdout);
                return -1;
            }
            static const char *const with_value[] = {"--redis", "--prefix", "--limit",
                                                     "--state", "--job",    "--count"};
            size_t k = 0;
            while (k < sizeof with_value / sizeof *with_value && strcmp(name, with_value[k])) k++;
            if (k == sizeof with_value / sizeof *with_value)
                return usage_error("unknown option '%s'", name);
            if (!val) {
                if (i + 1 >= argc) return usage_error("%s needs a value", name);
                val = argv[++i];
            }
            int rc = 0;
            if (k == 0) cli->url = val;
            else if (k == 1) cli->prefix = val;
            else if (k == 2)
                rc = parse_count(name, val, 1000000, &cli->a.limit), cli->seen |= OPT_LIMIT;
            else if (k == 3) cli->a.state = val, cli->seen |= OPT_STATE;
            else if (k == 4) cli->a.job = val, cli->seen |= OPT_JOB;
            else rc = parse_count(name, val, 1000000000, &cli->a.count), cli->seen |= OPT_COUNT;
            if (rc) return rc;
            continue;
        }
        if (!cli->cmd) {
            for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
                if (strcmp(arg, commands[k].name) == 0) cli->cmd = &commands[k];
            if (!cli->cmd) return usage_error("unknown command '%s'", arg);
            continue;
        }
        if (cli->a.npos >= cli->cmd->maxpos)
            return usage_error("too many arguments for %s: '%s'", cli->cmd->name, arg);
        cli->a.pos[cli->a.npos++] = arg;
    }
    if (!cli->cmd) return usage_error("no command given");
    static const char *const opt_names[] = {"--limit", "--state", "--job", "--count"};
    for (unsigned b = 0; b < 4; b++)
        if ((cli->seen & (1u << b)) && !(cli->cmd->opts & (1u << b)))
            return usage_error("%s does not take %s", cli->cmd->name, opt_names[b]);
    if (cli->a.npos < cli->cmd->minpos)
        return usage_error("%s needs %s", cli->cmd->name,
                           strcmp(cli->cmd->name, "requeue") == 0 ? "a task (J:T or J T)"
                                                                  : "a job id");
    for (int p = 0; p < cli->a.npos; p++)
        if (!cli->a.pos[p][0]) return usage_error("%s: empty argument", cli->cmd->name);
    if (cli->a.state && pa_state_index(cli->a.state) < 0)
        return usage_error("unknown task state '%s'", cli->a.state);
    if (cli->a.job && !cli->a.job[0]) return usage_error("--job needs a job id");
    return 0;
}

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *cols = getenv("COLUMNS");
    long n = cols ? strtol(cols, NULL, 10) : 0;
    return n > 0 && n < 10000 ? (int)n : 80;
}

/* The index of the command word (past the global options and their values), or argc. */
static int command_index(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) return i + 1 < argc ? i + 1 : argc;
        if (a[0] != '-' || !a[1]) return i;
        if ((strcmp(a, "--redis") == 0 || strcmp(a, "--prefix") == 0) && i + 1 < argc) i++;
    }
    return argc;
}

int main(int argc, char **argv)
{
    pa_mem_install_hooks(); /* out of memory aborts in jansson and hiredis too */
    int ci = command_index(argc, argv);
    if (ci < argc && strcmp(argv[ci], "robots-check") == 0)
        return ctl_cmd_robots_check(argc - ci, argv + ci);
    if (ci < argc && strcmp(argv[ci], "check-target") == 0)
        return ctl_cmd_check_target(argc - ci, argv + ci);
    cli_t cli;
    memset(&cli, 0, sizeof cli);
    cli.a.limit = -1;
    int rc = parse_args(argc, argv, &cli);
    if (rc) return rc < 0 ? CTL_OK : rc;

    if (cli.url) {
        pa_redis_url_t u;
        char perr[256];
        int has_pw = pa_redis_url_parse(cli.url, &u, perr, sizeof perr) == 0 && u.password;
        pa_redis_url_free(&u); /* zeroed by a failed parse: freeing it is a no-op */
        if (has_pw) {
            ctl_err("--redis: a password on the command line is refused (any user of this machine "
                    "can read it): set REDIS_URL in the environment, or REDIS_PASSWORD_FILE");
            return CTL_USAGE;
        }
    }
    const char *url = cli.url ? cli.url : pa_env_str("REDIS_URL", DEFAULT_URL);
    ctl_t c;
    memset(&c, 0, sizeof c);
    c.prefix = cli.prefix ? cli.prefix : pa_env_str("REDIS_PREFIX", DEFAULT_PREFIX);
    c.json = cli.json;
    if (isatty(STDOUT_FILENO)) {
        const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
        c.width = terminal_width();
        c.color = !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
    }
    char err[256];
    c.r = pa_redis_new(url, REDIS_TIMEOUT_MS, err, sizeof err);
    if (!c.r) {
        ctl_err("%s%s", cli.url && strncmp(err, "REDIS_URL", 9) == 0 ? "--redis" : "",
                cli.url && strncmp(err, "REDIS_URL", 9) == 0 ? err + 9 : err);
        return CTL_USAGE;
    }
    rc = cli.cmd->fn(&c, &cli.a);
    pa_redis_destroy(&c.r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ctl_err("cannot write the output: %s", strerror(errno));
        if (rc == CTL_OK) rc = CTL_ERR;
    }
    return rc;
}
