/* The job engine's queues for operators (and the dashboard): depths, dead letters, requeue. */
#ifndef GW_QUEUES_API_H
#define GW_QUEUES_API_H
#include "gw_http.h"

/* GET /api/queues: {"ready":{service:n,...},"delayed":n,"inflight":n,"dead":n}. */
void gw_h_queues(gw_t *gw, gw_req_t *r);
/* GET /api/dead?limit=&cursor=: the dead letters, newest first, each with its task's state now. */
void gw_h_dead_list(gw_t *gw, gw_req_t *r);
/* POST /api/tasks/{id}/requeue: a failed task round again from its failed stage. */
void gw_h_task_requeue(gw_t *gw, gw_req_t *r);

#endif
