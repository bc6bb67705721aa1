/* Request counters and latency histograms per route, rendered in Prometheus text format. */
#ifndef GW_METRICS_H
#define GW_METRICS_H
#include <stddef.h>

#include "pa_buf.h"

/* route -1 is "no route matched". Lock-free; safe from any thread. */
void gw_metrics_observe(int route, int status, double seconds);
/* Appends the request metrics; names[i] labels route i. */
void gw_metrics_render(pa_buf_t *out, const char *const *names, const char *const *methods,
                       size_t nroutes);

#endif
