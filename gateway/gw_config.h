/* The gateway's configuration, read once from the environment at start. */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H
#include "pa_stages.h"
#include <stddef.h>

#include "pa_guard.h"
#include "pa_log.h"

#define GW_MAX_KEYS 32
#define GW_MAX_ORIGINS 32

typedef struct {
    int port;
    char host[64];
    char *redis_url;
    char *prefix;
    char *dashboard_dir; /* DASHBOARD_DIR: the dashboard's built files; NULL: not served */
    int redis_timeout_ms;
    int durability;          /* REDIS_DURABILITY: GW_DURABILITY_DEFAULT or _STRICT (gw_store.h) */
    long wait_replicas;      /* REDIS_WAIT_REPLICAS: replicas that must have a write before 2xx */
    char *keys[GW_MAX_KEYS]; /* API keys; never logged */
    size_t nkeys;
    char *origins[GW_MAX_ORIGINS];
    size_t norigins;
    pa_log_level_t log_level;
    int threads;
    size_t max_body;
    size_t import_max_body;
    long import_max_rows;
    int shutdown_timeout_s;
    /* the HTTP edge (gw_http.c): deadlines, connection caps, bodies held in memory */
    long header_timeout_ms; /* HTTP_HEADER_TIMEOUT_MS: a request's header, and keep-alive idle */
    long body_timeout_ms;   /* HTTP_BODY_TIMEOUT_MS: a body, plus the time its size buys */
    long body_min_rate;     /* HTTP_BODY_MIN_RATE: bytes per second a body must keep up */
    long max_conns;         /* HTTP_MAX_CONNECTIONS */
    long max_conns_per_ip;  /* HTTP_MAX_CONNECTIONS_PER_IP; 0: no cap */
    size_t max_body_memory; /* HTTP_MAX_BODY_MEMORY: request bodies held at once */
    /* the job engine */
    char *dispatch_bind; /* "" disables the dispatcher */
    int heartbeat_ms;
    int lease_ms;
    long max_targets;
    long max_queued;
    long retention_s;
    /* MAX_ATTEMPTS_<STAGE> of each run stage, by pa_stage_t (0 for the other stages) */
    long max_attempts[PA_NSTAGES_ALL];
    long run_rate_per_min;
    long run_burst;
    long generate_timeout_ms;
    long generate_rate_per_min;
    long stream_keepalive_ms;   /* keep-alive comments of streamed generate answers */
    long mcp_call_timeout_ms;   /* /api/mcp/...: answered 504 after this */
    long mcp_call_rate_per_min; /* /api/mcp/...: token bucket per API key */
    char *gateway_id;
    char *curve_secret;
    char *curve_clients_dir;
    /* the default sender of campaign runs from SENDER_NAME, SENDER_EMAIL, SENDER_COMPANY,
     * SENDER_PHONE, SENDER_TITLE, SENDER_WEBSITE: a JSON object, NULL when none is set */
    char *sender_json;
    /* ALLOW_PRIVATE_TARGETS=1 (tests and local demos only): runs may target loopback addresses */
    int allow_private_targets;
    /* ALLOWED_PRIVATE_TARGETS ("127.0.0.1:18400-18499,[::1]:18400"): exactly which non-public
     * addresses and ports a run may target (the demo sites, tests); NULL when unset */
    pa_guard_t *private_targets;
} gw_config_t;

/* 0, or -1 with a message naming the variable in err. */
int gw_config_load(gw_config_t *c, char *err, size_t errlen);
void gw_config_free(gw_config_t *c);

#endif
