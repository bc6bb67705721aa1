/* GET /api/health, GET /metrics (Prometheus text) and GET /api/openapi.json. */
#ifndef GW_HEALTH_H
#define GW_HEALTH_H
#include "gw_http.h"

void gw_h_health(gw_t *gw, gw_req_t *r);
void gw_h_metrics(gw_t *gw, gw_req_t *r);
void gw_h_openapi(gw_t *gw, gw_req_t *r);

#endif
