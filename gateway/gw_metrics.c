/* Request counters and latency histograms per route (relaxed atomics, no locks). */
#include "gw_metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define MAX_ROUTES 64
static const int statuses[] = {200, 201, 202, 204, 304, 400, 401, 403, 404, 405,
                               409, 413, 415, 422, 429, 500, 502, 503, 504};
#define NSTATUS (sizeof statuses / sizeof statuses[0])
static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
#define NBUCKET (sizeof bounds / sizeof bounds[0])

/* slot 0 is "unmatched"; route i is slot i + 1 */
static atomic_ullong count[MAX_ROUTES + 1][NSTATUS + 1];
static atomic_ullong bucket[MAX_ROUTES + 1][NBUCKET + 1];
static atomic_ullong sum_us[MAX_ROUTES + 1];

void gw_metrics_observe(int route, int status, double seconds)
{
    int slot = route < 0 || route >= MAX_ROUTES ? 0 : route + 1;
    size_t si = NSTATUS;
    for (size_t i = 0; i < NSTATUS; i++)
        if (statuses[i] == status) si = i;
    atomic_fetch_add_explicit(&count[slot][si], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NBUCKET && seconds > bounds[b]) b++;
    atomic_fetch_add_explicit(&bucket[slot][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sum_us[slot], (unsigned long long)(seconds * 1e6),
                              memory_order_relaxed);
}

void gw_metrics_render(pa_buf_t *out, const char *const *names, const char *const *methods,
                       size_t nroutes)
{
    if (nroutes > MAX_ROUTES) nroutes = MAX_ROUTES;
    pa_buf_puts(out, "# HELP pa_http_requests_total HTTP requests by route, method and status.\n"
                     "# TYPE pa_http_requests_total counter\n");
    for (size_t slot = 0; slot <= nroutes; slot++) {
        const char *route = slot ? names[slot - 1] : "unmatched";
        const char *method = slot ? methods[slot - 1] : "any";
        for (size_t si = 0; si <= NSTATUS; si++) {
            unsigned long long c = atomic_load_explicit(&count[slot][si], memory_order_relaxed);
            if (!c) continue;
            char st[8];
            if (si < NSTATUS) snprintf(st, sizeof st, "%d", statuses[si]);
            else snprintf(st, sizeof st, "other");
            pa_buf_printf(out,
                          "pa_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
                          route, method, st, c);
        }
    }
    pa_buf_puts(out, "# HELP pa_http_request_duration_seconds Time from request to response.\n"
                     "# TYPE pa_http_request_duration_seconds histogram\n");
    for (size_t slot = 0; slot <= nroutes; slot++) {
        const char *route = slot ? names[slot - 1] : "unmatched";
        const char *method = slot ? methods[slot - 1] : "any";
        unsigned long long cum = 0;
        unsigned long long b[NBUCKET + 1];
        for (size_t i = 0; i <= NBUCKET; i++)
            b[i] = atomic_load_explicit(&bucket[slot][i], memory_order_relaxed);
        unsigned long long total = 0;
        for (size_t i = 0; i <= NBUCKET; i++) total += b[i];
        if (!total) continue;
        for (size_t i = 0; i < NBUCKET; i++) {
            cum += b[i];
            pa_buf_printf(out,
                          "pa_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                          "le=\"%g\"} %llu\n",
                          route, method, bounds[i], cum);
        }
        pa_buf_printf(out,
                      "pa_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                      "le=\"+Inf\"} %llu\n",
                      route, method, total);
        pa_buf_printf(
            out, "pa_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n", route,
            method, (double)atomic_load_explicit(&sum_us[slot], memory_order_relaxed) / 1e6);
        pa_buf_printf(out,
                      "pa_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
                      route, method, total);
    }
}
