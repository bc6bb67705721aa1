/* prospect-gateway: the HTTP API and dispatcher of Prospect AI. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "gw_dispatch.h"
#include "gw_events.h"
#include "gw_http.h"
#include "gw_llm_stream.h"
#include "gw_routes.h"
#include "gw_static.h"
#include "gw_store.h"
#include "pa_log.h"
#include "pa_mem.h"
#include "pa_time.h"

/* Starts the parts in order (store, dispatcher, events hub, streams, HTTP server); on failure
 * stops what started and returns the exit code (2: configuration, 1: other), else 0. */
static int start(gw_t *gw)
{
    char err[512];
    gw->start_ms = pa_mono_ms();
    if (gw->cfg.dashboard_dir &&
        !(gw->dashboard = gw_static_open(gw->cfg.dashboard_dir, err, sizeof err))) {
        pa_error("bad configuration", PA_S("error", err));
        return 2;
    }
    gw->store = gw_store_new(gw->cfg.redis_url, gw->cfg.prefix, gw->cfg.redis_timeout_ms,
                             gw->cfg.durability, err, sizeof err);
    if (!gw->store) {
        pa_error("bad configuration", PA_S("error", err));
        gw_static_free(&gw->dashboard);
        return 2;
    }
    if (gw->cfg.dispatch_bind[0]) {
        gw_dispatch_opts_t o = {
            gw->cfg.dispatch_bind,    gw->cfg.redis_url,    gw->cfg.prefix,
            gw->cfg.redis_timeout_ms, gw->cfg.heartbeat_ms, gw->cfg.lease_ms,
            gw->cfg.gateway_id,       gw->cfg.curve_secret, gw->cfg.curve_clients_dir};
        gw->dispatch = gw_dispatch_new(&o, err, sizeof err);
        if (!gw->dispatch) {
            pa_error("cannot start the dispatcher", PA_S("error", err));
            gw_store_destroy(&gw->store);
            gw_static_free(&gw->dashboard);
            return 1;
        }
    }
    gw->events =
        gw_events_new(gw->cfg.redis_url, gw->cfg.prefix, gw->cfg.redis_timeout_ms, err, sizeof err);
    if (gw->events)
        gw->streams = gw_streams_new(gw->cfg.redis_url, gw->cfg.prefix, gw->cfg.redis_timeout_ms,
                                     gw->cfg.stream_keepalive_ms, err, sizeof err);
    size_t nroutes;
    const gw_route_t *routes = gw_routes(&nroutes);
    int inited = gw->events && gw->streams && gw_init(gw) == 0;
    if (!inited || gw_http_start(gw, routes, nroutes) < 0) {
        if (inited) gw_fini(gw);
        gw_streams_destroy(&gw->streams);
        gw_events_destroy(&gw->events);
        gw_dispatch_destroy(&gw->dispatch);
        gw_store_destroy(&gw->store);
        gw_static_free(&gw->dashboard);
        return 1;
    }
    return 0;
}

static void log_listening(const gw_t *gw)
{
    char redis_safe[256], e2[64];
    pa_redis_t *tmp = pa_redis_new(gw->cfg.redis_url, 100, e2, sizeof e2);
    snprintf(redis_safe, sizeof redis_safe, "%s", tmp ? pa_redis_url_safe(tmp) : "?");
    pa_redis_destroy(&tmp);
    pa_info("listening", PA_S("host", gw->cfg.host), PA_I("port", gw->port),
            PA_S("redis", redis_safe), PA_S("prefix", gw->cfg.prefix),
            PA_I("threads", gw->cfg.threads), PA_I("api_keys", gw->cfg.nkeys),
            PA_S("dispatch", gw->cfg.dispatch_bind[0] ? gw->cfg.dispatch_bind : "off"),
            PA_S("dashboard", gw->cfg.dashboard_dir ? gw->cfg.dashboard_dir : "not configured"),
            PA_I("dashboard_files", (long long)gw_static_count(gw->dashboard)),
            PA_S("version", PA_VERSION));
    if (!gw->cfg.nkeys)
        pa_warn("no API_KEYS configured: the API is unauthenticated and bound to loopback only",
                PA_S("host", gw->cfg.host));
}

/* Stops accepting, ends the event streams, lets requests finish, then stops the parts. */
static void stop(gw_t *gw)
{
    gw_http_quiesce(gw);
    gw_events_close_all(gw->events); /* event streams never end by themselves */
    gw_http_stop(gw);
    gw_fini(gw);
    gw_streams_destroy(&gw->streams); /* after the server: responses hold streams until it stops */
    gw_events_destroy(&gw->events);
    gw_dispatch_destroy(&gw->dispatch);
    gw_store_destroy(&gw->store);
    gw_static_free(&gw->dashboard); /* after the server: responses point into its files */
}

int main(void)
{
    static gw_t gw;
    char err[512];
    pa_mem_install_hooks();
    pa_log_init("gateway", PA_LOG_INFO, 2);
    if (gw_config_load(&gw.cfg, err, sizeof err) < 0) {
        pa_error("bad configuration", PA_S("error", err));
        gw_config_free(&gw.cfg);
        return 2;
    }
    pa_log_init("gateway", gw.cfg.log_level, 2);

    /* Signals are taken by sigwait below, so every thread started from here blocks them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = start(&gw);
    if (rc) {
        gw_config_free(&gw.cfg);
        return rc;
    }
    log_listening(&gw);
    int sig = 0;
    sigwait(&sigs, &sig);
    pa_info("stopping", PA_S("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    stop(&gw);
    gw_config_free(&gw.cfg);
    pa_info("stopped", PA_I("exit", 0));
    return 0;
}
