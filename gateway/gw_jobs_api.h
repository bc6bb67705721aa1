/* /api/jobs: the campaign runs (jobs) and their tasks, read from Redis; live events over SSE. */
#ifndef GW_JOBS_API_H
#define GW_JOBS_API_H
#include "gw_http.h"

void gw_h_jobs_list(gw_t *gw, gw_req_t *r);
void gw_h_job_get(gw_t *gw, gw_req_t *r);
void gw_h_job_tasks(gw_t *gw, gw_req_t *r);
void gw_h_job_cancel(gw_t *gw, gw_req_t *r);
void gw_h_job_events(gw_t *gw, gw_req_t *r);

#endif
