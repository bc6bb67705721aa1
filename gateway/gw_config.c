/* The gateway's configuration from the environment. */
#include "gw_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_text.h"
#include "pa_buf.h"
#include "pa_config.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_utf8.h"

/* Splits a comma-separated list, trimming blanks; -1 when there are more than max items. */
static int split(const char *s, char **out, size_t max, size_t *n)
{
    *n = 0;
    while (s && *s) {
        while (*s == ' ' || *s == ',') s++;
        if (!*s) break;
        const char *e = s;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > s && t[-1] == ' ') t--;
        if (*n == max) return -1;
        out[(*n)++] = pa_strndup(s, (size_t)(t - s));
        s = e;
    }
    return 0;
}

/* The default sender of campaign runs (SENDER_*): c->sender_json, a JSON object, or NULL when no
 * SENDER_* variable is set. Once one is, SENDER_NAME and SENDER_EMAIL are required. */
static int load_sender(gw_config_t *c, char *err, size_t errlen)
{
    static const struct {
        const char *var, *field;
        size_t max;
    } vars[] = {{"SENDER_NAME", "name", 200},       {"SENDER_EMAIL", "email", 254},
                {"SENDER_COMPANY", "company", 200}, {"SENDER_PHONE", "phone", 50},
                {"SENDER_TITLE", "title", 200},     {"SENDER_WEBSITE", "website", 2048}};
    pa_buf_t b = PA_BUF_INIT;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = pa_env_str(vars[i].var, NULL);
        size_t n = v ? strlen(v) : 0;
        if (!n) continue;
        if (!pa_utf8_valid(v, n) || pa_utf8_len(v, n) > vars[i].max ||
            (i == 1 && !gw_email_valid(v, n))) {
            snprintf(err, errlen, "%s: expected %s of at most %zu characters", vars[i].var,
                     i == 1 ? "an address like name@example.com" : "UTF-8 text", vars[i].max);
            pa_buf_free(&b);
            return -1;
        }
        pa_buf_puts(&b, b.len ? "," : "{");
        pa_buf_json_str(&b, vars[i].field, strlen(vars[i].field));
        pa_buf_putc(&b, ':');
        pa_buf_json_str(&b, v, n);
    }
    if (!b.len) return 0;
    pa_buf_putc(&b, '}');
    const char *name = pa_env_str("SENDER_NAME", NULL), *email = pa_env_str("SENDER_EMAIL", NULL);
    if (!name || !*name || !email || !*email) {
        snprintf(err, errlen, "%s: required once any SENDER_* variable is set (the default sender)",
                 !name || !*name ? "SENDER_NAME" : "SENDER_EMAIL");
        pa_buf_free(&b);
        return -1;
    }
    c->sender_json = pa_buf_detach(&b, NULL);
    return 0;
}

/* MAX_ATTEMPTS_<STAGE> for every run stage of the stage table (pa_stages.h), defaulting to the
 * table's tries: a new stage gets its setting without a line here. */
static int read_max_attempts(gw_config_t *c, char *err, size_t errlen)
{
    for (int s = 0; s < PA_NSTAGES_ALL; s++) {
        if (!pa_stage_info[s].run) continue;
        char name[64] = "MAX_ATTEMPTS_";
        size_t n = strlen(name);
        for (const char *p = pa_stage_info[s].name; *p && n + 1 < sizeof name; p++)
            name[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        name[n] = '\0';
        if (pa_env_long(name, pa_stage_info[s].max_attempts, 1, 100, &c->max_attempts[s], err,
                        errlen) < 0)
            return -1;
    }
    return 0;
}

/* 1 when a ZeroMQ endpoint stays on this host: tcp:// on 127.x or [::1] (or localhost),
 * ipc://, inproc://. */
static int dispatch_local(const char *ep)
{
    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9)) return 1;
    if (strncmp(ep, "tcp://", 6) != 0) return 0;
    const char *h = ep + 6;
    if (!strncmp(h, "[::1]:", 6) || !strncmp(h, "localhost:", 10)) return 1;
    char host[64];
    size_t n = strcspn(h, ":");
    if (n == 0 || n >= sizeof host || h[n] != ':') return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* The job engine's settings (dispatcher, leases, limits, retries, rates). */
static int load_engine(gw_config_t *c, char *err, size_t errlen)
{
    long v;
    if (pa_env_long("HEARTBEAT_MS", 1000, 50, 60000, &v, err, errlen) < 0) return -1;
    c->heartbeat_ms = (int)v;
    if (pa_env_long("LEASE_MS", 30000, 500, 3600000, &v, err, errlen) < 0) return -1;
    c->lease_ms = (int)v;
    if (pa_env_long("MAX_TARGETS", 10000, 1, 1000000, &c->max_targets, err, errlen) < 0 ||
        pa_env_long("MAX_QUEUED_TASKS", 1000000, 1, 100000000, &c->max_queued, err, errlen) < 0 ||
        pa_env_long("JOB_RETENTION_S", 7 * 86400, 1, 3650L * 86400, &c->retention_s, err, errlen) <
            0 ||
        read_max_attempts(c, err, errlen) < 0 ||
        pa_env_long("RUN_RATE_PER_MIN", 60, 1, 1000000, &c->run_rate_per_min, err, errlen) < 0 ||
        pa_env_long("RUN_BURST", 20, 1, 1000000, &c->run_burst, err, errlen) < 0 ||
        pa_env_long("LLM_GENERATE_TIMEOUT_MS", 60000, 100, 3600000, &c->generate_timeout_ms, err,
                    errlen) < 0 ||
        pa_env_long("LLM_GENERATE_RATE_PER_MIN", 600, 1, 1000000, &c->generate_rate_per_min, err,
                    errlen) < 0 ||
        pa_env_long("LLM_STREAM_KEEPALIVE_MS", 15000, 100, 600000, &c->stream_keepalive_ms, err,
                    errlen) < 0 ||
        pa_env_long("MCP_CALL_TIMEOUT_MS", 60000, 100, 3600000, &c->mcp_call_timeout_ms, err,
                    errlen) < 0 ||
        pa_env_long("MCP_CALL_RATE_PER_MIN", 600, 1, 1000000, &c->mcp_call_rate_per_min, err,
                    errlen) < 0)
        return -1;
    c->dispatch_bind = pa_strdup(pa_env_str("DISPATCH_BIND", "tcp://127.0.0.1:5555"));
    if (getenv("DISPATCH_BIND") && !*getenv("DISPATCH_BIND")) c->dispatch_bind[0] = '\0';
    const char *cs = pa_env_str("CURVE_SERVER_SECRET", NULL);
    if (cs && strlen(cs) != 40) {
        snprintf(err, errlen, "CURVE_SERVER_SECRET: expected a 40-character Z85 secret key");
        return -1;
    }
    c->curve_secret = cs ? pa_strdup(cs) : NULL;
    const char *cd = pa_env_str("CURVE_CLIENTS_DIR", NULL);
    c->curve_clients_dir = cd && *cd ? pa_strdup(cd) : NULL;
    /* the worker link: CURVE, with an allow-list of client keys, beyond this host */
    if (c->dispatch_bind[0] && !c->curve_secret && !dispatch_local(c->dispatch_bind)) {
        snprintf(err, errlen,
                 "DISPATCH_BIND=%.100s without CURVE: refusing to let any host that reaches the "
                 "port join as a worker; set CURVE_SERVER_SECRET and CURVE_CLIENTS_DIR, or bind "
                 "tcp://127.0.0.1:<port>",
                 c->dispatch_bind);
        return -1;
    }
    if (c->curve_secret && !c->curve_clients_dir) {
        snprintf(err, errlen,
                 "CURVE_CLIENTS_DIR: required with CURVE_SERVER_SECRET (a directory "
                 "of allowed client certificates; there is no allow-any)");
        return -1;
    }
    if (c->curve_clients_dir && access(c->curve_clients_dir, R_OK | X_OK) != 0) {
        snprintf(err, errlen, "CURVE_CLIENTS_DIR=%.200s: not a readable directory",
                 c->curve_clients_dir);
        return -1;
    }
    if (pa_env_bool("ALLOW_PRIVATE_TARGETS", 0, &c->allow_private_targets, err, errlen) < 0)
        return -1;
    if (c->allow_private_targets)
        pa_warn("ALLOW_PRIVATE_TARGETS is on: runs may target LOOPBACK addresses (127.0.0.0/8, "
                "::1, localhost); for tests and local demos only, NEVER in production",
                PA_S("setting", "ALLOW_PRIVATE_TARGETS"));
    const char *apt = pa_env_str("ALLOWED_PRIVATE_TARGETS", NULL);
    if (apt && *apt) {
        char why[300];
        c->private_targets = pa_guard_new(NULL, apt, why, sizeof why);
        if (!c->private_targets) {
            snprintf(err, errlen, "ALLOWED_PRIVATE_TARGETS: %s",
                     strncmp(why, "allowed private targets: ", 25) == 0 ? why + 25 : why);
            return -1;
        }
        pa_warn("ALLOWED_PRIVATE_TARGETS is set: runs may target EXACTLY these non-public "
                "addresses and ports (every other private address stays refused); for tests and "
                "the bundled demo sites only, NEVER in production",
                PA_S("setting", "ALLOWED_PRIVATE_TARGETS"), PA_S("value", apt));
    }
    return 0;
}

int gw_config_load(gw_config_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    long v;
    if (pa_env_long("PORT", 8000, 0, 65535, &v, err, errlen) < 0) return -1;
    c->port = (int)v;
    if (pa_env_long("REDIS_TIMEOUT_MS", 3000, 50, 60000, &v, err, errlen) < 0) return -1;
    c->redis_timeout_ms = (int)v;
    if (pa_env_long("HTTP_THREADS", 2, 1, 64, &v, err, errlen) < 0) return -1;
    c->threads = (int)v;
    if (pa_env_long("IMPORT_MAX_ROWS", 100000, 1, 10000000, &c->import_max_rows, err, errlen) < 0)
        return -1;
    if (pa_env_long("SHUTDOWN_TIMEOUT_S", 10, 0, 3600, &v, err, errlen) < 0) return -1;
    c->shutdown_timeout_s = (int)v;
    if (pa_env_size("MAX_BODY_BYTES", 1u << 20, 1024, (size_t)1 << 30, &c->max_body, err, errlen) <
        0)
        return -1;
    if (pa_env_size("IMPORT_MAX_BYTES", (size_t)64 << 20, 1024, (size_t)4 << 30,
                    &c->import_max_body, err, errlen) < 0)
        return -1;
    if (pa_env_long("HTTP_HEADER_TIMEOUT_MS", 30000, 50, 3600000, &c->header_timeout_ms, err,
                    errlen) < 0 ||
        pa_env_long("HTTP_BODY_TIMEOUT_MS", 30000, 50, 3600000, &c->body_timeout_ms, err, errlen) <
            0 ||
        pa_env_long("HTTP_BODY_MIN_RATE", 1024, 1, 1L << 30, &c->body_min_rate, err, errlen) < 0 ||
        pa_env_long("HTTP_MAX_CONNECTIONS", 4096, 16, 1000000, &c->max_conns, err, errlen) < 0 ||
        pa_env_long("HTTP_MAX_CONNECTIONS_PER_IP", 128, 0, 1000000, &c->max_conns_per_ip, err,
                    errlen) < 0 ||
        pa_env_size("HTTP_MAX_BODY_MEMORY", (size_t)256 << 20, 1024, (size_t)64 << 30,
                    &c->max_body_memory, err, errlen) < 0)
        return -1;
    const char *lvl = pa_env_str("LOG_LEVEL", "info");
    if (pa_log_parse_level(lvl, &c->log_level) < 0) {
        snprintf(err, errlen, "LOG_LEVEL: expected debug, info, warn, error or off, got '%.20s'",
                 lvl);
        return -1;
    }
    c->redis_url = pa_strdup(pa_env_str("REDIS_URL", "redis://127.0.0.1:6379/0"));
    const char *dur = pa_env_str("REDIS_DURABILITY", "default");
    if (strcmp(dur, "default") != 0 && strcmp(dur, "strict") != 0) {
        snprintf(err, errlen, "REDIS_DURABILITY: expected default or strict, got '%.20s'", dur);
        return -1;
    }
    c->durability = dur[0] == 's';
    const char *dd = pa_env_str("DASHBOARD_DIR", NULL);
    if (dd && *dd) c->dashboard_dir = pa_strdup(dd);
    if (pa_env_long("REDIS_WAIT_REPLICAS", 0, 0, 16, &c->wait_replicas, err, errlen) < 0) return -1;
    const char *prefix = pa_env_str("REDIS_PREFIX", "pa:");
    if (strlen(prefix) > 32 || strpbrk(prefix, " \t\r\n")) {
        snprintf(err, errlen, "REDIS_PREFIX: expected at most 32 characters without blanks");
        return -1;
    }
    c->prefix = pa_strdup(prefix);
    if (split(pa_env_str("API_KEYS", ""), c->keys, GW_MAX_KEYS, &c->nkeys) < 0) {
        snprintf(err, errlen, "API_KEYS: at most %d keys", GW_MAX_KEYS);
        return -1;
    }
    for (size_t i = 0; i < c->nkeys; i++) {
        if (strlen(c->keys[i]) < 16) {
            snprintf(err, errlen, "API_KEYS: key %zu is shorter than 16 characters", i + 1);
            return -1;
        }
    }
    if (split(pa_env_str("CORS_ORIGINS", "http://localhost:5173"), c->origins, GW_MAX_ORIGINS,
              &c->norigins) < 0) {
        snprintf(err, errlen, "CORS_ORIGINS: at most %d origins", GW_MAX_ORIGINS);
        return -1;
    }
    if (load_engine(c, err, errlen) < 0) return -1;
    const char *host = pa_env_str("HOST", c->nkeys ? "0.0.0.0" : "127.0.0.1");
    struct in_addr a;
    if (strlen(host) >= sizeof c->host || inet_pton(AF_INET, host, &a) != 1) {
        snprintf(err, errlen, "HOST: expected an IPv4 address such as 127.0.0.1, got '%.40s'",
                 host);
        return -1;
    }
    snprintf(c->host, sizeof c->host, "%s", host);
    const char *gid = pa_env_str("GATEWAY_ID", NULL);
    if (gid) {
        c->gateway_id = pa_strdup(gid);
    } else {
        char hn[64] = "gateway";
        gethostname(hn, sizeof hn - 1);
        hn[sizeof hn - 1] = '\0';
        char buf[96];
        snprintf(buf, sizeof buf, "%s:%d", hn, c->port);
        c->gateway_id = pa_strdup(buf);
    }
    if (load_sender(c, err, errlen) < 0) return -1;
    if (!c->nkeys && (ntohl(a.s_addr) >> 24) != 127) {
        snprintf(err, errlen,
                 "HOST=%s without API_KEYS: refusing to serve the API unauthenticated beyond "
                 "loopback; set API_KEYS (comma-separated bearer keys) or HOST=127.0.0.1",
                 host);
        return -1;
    }
    return 0;
}

void gw_config_free(gw_config_t *c)
{
    free(c->dispatch_bind);
    free(c->gateway_id);
    free(c->curve_secret);
    free(c->curve_clients_dir);
    free(c->sender_json);
    pa_guard_free(&c->private_targets);
    free(c->redis_url);
    free(c->prefix);
    free(c->dashboard_dir);
    for (size_t i = 0; i < c->nkeys; i++) free(c->keys[i]);
    for (size_t i = 0; i < c->norigins; i++) free(c->origins[i]);
    memset(c, 0, sizeof *c);
}
