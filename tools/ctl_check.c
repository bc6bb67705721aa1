/* prospectctl robots-check and check-target: why would the form worker skip a target? Both use
 * the worker's own code (form_robots.h, pa_guard.h) and need no Redis. */
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ctl.h"
#include "form_robots.h"
#include "pa_buf.h"
#include "pa_guard.h"

#define MAX_RESOLVE 32

static int check_usage(const char *fmt, const char *arg)
{
    fputs("prospectctl: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nusage: prospectctl robots-check [--status CODE] ROBOTS_FILE USER_AGENT URL\n"
          "       prospectctl check-target [--resolve HOST=ADDR]... URL\n",
          stderr);
    return CTL_USAGE;
}

/* The value of "--name V" or "--name=V" at argv[*i] (moving *i past it), or NULL when argv[*i]
 * is not that option. *missing when the value is missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* Reads at most max bytes of path ("-": stdin) into b; -1 with errno. */
static int read_bounded(const char *path, size_t max, pa_buf_t *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return -1;
    char chunk[16384];
    size_t got;
    while (b->len < max &&
           (got = fread(chunk, 1, max - b->len < sizeof chunk ? max - b->len : sizeof chunk, f)))
        pa_buf_put(b, chunk, got);
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (bad) errno = EIO;
    return bad ? -1 : 0;
}

int ctl_cmd_robots_check(int argc, char **argv)
{
    const char *pos[3];
    int npos = 0, operands_only = 0;
    long status = 200;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (!operands_only && strcmp(argv[i], "--") == 0) {
            operands_only = 1;
        } else if (!operands_only && (v = opt_value(argc, argv, &i, "--status", &missing))) {
            char *end;
            errno = 0;
            status = strtol(v, &end, 10);
            if (!*v || *end || errno || status < 0 || status > 999)
                return check_usage("--status wants an HTTP status (0 for unreachable), not '%s'",
                                   v);
        } else if (missing) {
            return check_usage("%s needs a value", argv[i]);
        } else if (!operands_only && argv[i][0] == '-' && argv[i][1]) {
            return check_usage("robots-check: unknown option '%s'", argv[i]);
        } else if (npos == 3) {
            return check_usage("robots-check: too many arguments: '%s'", argv[i]);
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (npos < 3) return check_usage("robots-check needs %s", "ROBOTS_FILE USER_AGENT URL");
    pa_buf_t body = PA_BUF_INIT;
    if (status >= 200 && status <= 299 && read_bounded(pos[0], FORM_ROBOTS_MAX_BYTES, &body) < 0) {
        ctl_err("cannot read %s: %s", pos[0], strerror(errno));
        pa_buf_free(&body);
        return CTL_USAGE;
    }
    form_robots_t *r = form_robots_parse(status, body.data, body.len, pos[1]);
    pa_buf_free(&body);
    form_robots_verdict_t v;
    form_robots_check(r, pos[2], &v);
    printf("%s\nrule: %s", v.allowed ? "allow" : "disallow", v.rule);
    if (v.line) printf(" (line %d)", v.line);
    putchar('\n');
    if (v.group[0]) printf("group: %s\n", v.group);
    long delay = form_robots_crawl_delay_ms(r);
    if (delay) printf("crawl-delay: %ld ms\n", delay);
    form_robots_free(&r);
    return v.allowed ? CTL_OK : CTL_ERR;
}

/* ---- check-target ------------------------------------------------------------------------- */

typedef struct {
    const char *host; /* as given, up to '=' */
    size_t hostlen;
    const char *addr;
} pin_t;

/* getaddrinfo for a numeric address ("1.2.3.4", "::1", "[::1]"); NULL when it is not one. */
static struct addrinfo *numeric(const char *addr, const char *port)
{
    char buf[64];
    size_t n = strlen(addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') addr++, n -= 2;
    if (n >= sizeof buf) return NULL;
    memcpy(buf, addr, n);
    buf[n] = '\0';
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    return getaddrinfo(buf, port, &hints, &res) == 0 ? res : NULL;
}

/* Every address of ai checked; 0, or -1 with the refusal printed. */
static int check_addrs(const pa_guard_t *g, const char *host, const struct addrinfo *ai,
                       pa_buf_t *shown)
{
    for (; ai; ai = ai->ai_next) {
        char reason[256], text[NI_MAXHOST];
        if (pa_guard_addr(g, ai->ai_addr, ai->ai_addrlen, reason, sizeof reason) < 0) {
            printf("refused: host %s: %s\n", host, reason);
            return -1;
        }
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, NULL, 0, NI_NUMERICHOST) ==
            0)
            pa_buf_printf(shown, "address: %s\n", text);
    }
    return 0;
}

/* The host (punycode, IPv6 in brackets) and port of a checked origin, by curl's URL API. */
static int origin_parts(const char *origin, char **host, char **port)
{
    CURLU *h = curl_url();
    int ok = h && curl_url_set(h, CURLUPART_URL, origin, 0) == CURLUE_OK &&
             curl_url_get(h, CURLUPART_HOST, host, 0) == CURLUE_OK &&
             curl_url_get(h, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    curl_url_cleanup(h);
    return ok ? 0 : -1;
}

static int resolve_and_check(const pa_guard_t *g, const char *origin, const pin_t *pins, int npins)
{
    char *host = NULL, *port = NULL;
    if (origin_parts(origin, &host, &port) < 0) {
        curl_free(host);
        curl_free(port);
        ctl_err("cannot read the origin %s", origin);
        return CTL_USAGE;
    }
    pa_buf_t shown = PA_BUF_INIT;
    int rc = CTL_OK, pinned = 0;
    struct addrinfo *lit = numeric(host, port);
    if (lit) { /* an IP literal: that is the address */
        if (check_addrs(g, host, lit, &shown) < 0) rc = CTL_ERR;
        freeaddrinfo(lit);
    }
    for (int i = 0; !lit && rc == CTL_OK && i < npins; i++) {
        if (strlen(host) != pins[i].hostlen || strncasecmp(host, pins[i].host, pins[i].hostlen))
            continue;
        pinned = 1;
        struct addrinfo *ai = numeric(pins[i].addr, port);
        if (!ai) {
            ctl_err("--resolve: '%s' is not an IPv4 or IPv6 address", pins[i].addr);
            rc = CTL_USAGE;
        } else {
            if (check_addrs(g, host, ai, &shown) < 0) rc = CTL_ERR;
            freeaddrinfo(ai);
        }
    }
    if (!lit && !pinned && rc == CTL_OK) {
        struct addrinfo hints = {.ai_flags = AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;
        int e = getaddrinfo(host, port, &hints, &res);
        if (e != 0) {
            printf("refused: host %s does not resolve (%s)\n", host, gai_strerror(e));
            rc = CTL_ERR;
        } else {
            if (check_addrs(g, host, res, &shown) < 0) rc = CTL_ERR;
            freeaddrinfo(res);
        }
    }
    if (rc == CTL_OK) printf("allowed\norigin: %s\n%s", origin, shown.data ? shown.data : "");
    pa_buf_free(&shown);
    curl_free(host);
    curl_free(port);
    return rc;
}

int ctl_cmd_check_target(int argc, char **argv)
{
    pin_t pins[MAX_RESOLVE];
    int npins = 0, operands_only = 0;
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (!operands_only && strcmp(argv[i], "--") == 0) {
            operands_only = 1;
        } else if (!operands_only && (v = opt_value(argc, argv, &i, "--resolve", &missing))) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1])
                return check_usage("--resolve wants HOST=ADDR, not '%s'", v);
            if (npins == MAX_RESOLVE) return check_usage("more than 32 --resolve: '%s'", v);
            pins[npins++] = (pin_t){v, (size_t)(eq - v), eq + 1};
        } else if (missing) {
            return check_usage("%s needs a value", argv[i]);
        } else if (!operands_only && argv[i][0] == '-' && argv[i][1]) {
            return check_usage("check-target: unknown option '%s'", argv[i]);
        } else if (url) {
            return check_usage("check-target: too many arguments: '%s'", argv[i]);
        } else {
            url = argv[i];
        }
    }
    if (!url) return check_usage("check-target needs %s", "a URL");
    char err[512], origin[1200], reason[512];
    pa_guard_t *g = pa_guard_from_env(err, sizeof err);
    if (!g) {
        ctl_err("%s", err);
        return CTL_USAGE;
    }
    const char *priv = pa_guard_allowed_private(g);
    if (priv[0]) fprintf(stderr, "prospectctl: ALLOWED_PRIVATE_TARGETS=%s is in effect\n", priv);
    int rc;
    if (pa_guard_url(g, url, origin, sizeof origin, reason, sizeof reason) < 0) {
        printf("refused: %s\n", reason);
        rc = CTL_ERR;
    } else {
        rc = resolve_and_check(g, origin, pins, npins);
    }
    pa_guard_free(&g);
    return rc;
}
