/* POST /api/automation/contact-forms/run: a campaign run becomes a job with a task per target. */
#ifndef GW_RUNS_API_H
#define GW_RUNS_API_H
#include "gw_http.h"

void gw_h_run(gw_t *gw, gw_req_t *r);

#endif
