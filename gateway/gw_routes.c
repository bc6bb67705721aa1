/* The route table; the HTTP layer (gw_http.c) serves whatever table it is started with. */
#include "gw_routes.h"

#include "gw_campaigns_api.h"
#include "gw_handoffs_api.h"
#include "gw_health.h"
#include "gw_import_api.h"
#include "gw_jobs_api.h"
#include "gw_llm_api.h"
#include "gw_mcp_api.h"
#include "gw_prospects_api.h"
#include "gw_queues_api.h"
#include "gw_runs_api.h"
#include "gw_suppressions_api.h"
#include "gw_workers.h"

static const gw_route_t routes[] = {
    {"GET", "/api/health", gw_h_health, GW_BODY_NONE, 1},
    {"GET", "/api/prospects", gw_h_prospects_list, GW_BODY_NONE, 0},
    {"POST", "/api/prospects", gw_h_prospects_create, GW_BODY_JSON, 0},
    {"POST", "/api/prospects/import", gw_h_prospects_import, GW_BODY_IMPORT, 0},
    {"GET", "/api/prospects/{id}", gw_h_prospect_get, GW_BODY_NONE, 0},
    {"PATCH", "/api/prospects/{id}", gw_h_prospect_patch, GW_BODY_JSON, 0},
    {"DELETE", "/api/prospects/{id}", gw_h_prospect_delete, GW_BODY_NONE, 0},
    {"GET", "/api/campaigns", gw_h_campaigns_list, GW_BODY_NONE, 0},
    {"POST", "/api/campaigns", gw_h_campaigns_create, GW_BODY_JSON, 0},
    {"GET", "/api/campaigns/{id}", gw_h_campaign_get, GW_BODY_NONE, 0},
    {"POST", "/api/automation/contact-forms/run", gw_h_run, GW_BODY_JSON, 0},
    {"GET", "/api/jobs", gw_h_jobs_list, GW_BODY_NONE, 0},
    {"GET", "/api/jobs/{id}", gw_h_job_get, GW_BODY_NONE, 0},
    {"GET", "/api/jobs/{id}/tasks", gw_h_job_tasks, GW_BODY_NONE, 0},
    {"POST", "/api/jobs/{id}/cancel", gw_h_job_cancel, GW_BODY_NONE, 0},
    {"GET", "/api/jobs/{id}/events", gw_h_job_events, GW_BODY_NONE, 0},
    {"GET", "/api/workers", gw_h_workers, GW_BODY_NONE, 0},
    {"GET", "/api/queues", gw_h_queues, GW_BODY_NONE, 0},
    {"GET", "/api/dead", gw_h_dead_list, GW_BODY_NONE, 0},
    {"POST", "/api/tasks/{id}/requeue", gw_h_task_requeue, GW_BODY_NONE, 0},
    {"GET", "/api/handoffs", gw_h_handoffs_list, GW_BODY_NONE, 0},
    {"POST", "/api/handoffs/{id}/complete", gw_h_handoff_complete, GW_BODY_JSON, 0},
    {"GET", "/api/suppressions", gw_h_suppressions_list, GW_BODY_NONE, 0},
    {"POST", "/api/suppressions", gw_h_suppressions_add, GW_BODY_IMPORT, 0},
    {"DELETE", "/api/suppressions", gw_h_suppressions_delete, GW_BODY_NONE, 0},
    {"DELETE", "/api/suppressions/{id}", gw_h_suppression_delete, GW_BODY_NONE, 0},
    {"POST", "/api/llm/generate", gw_h_llm_generate, GW_BODY_JSON, 0},
    {"GET", "/api/mcp/tools", gw_h_mcp_tools, GW_BODY_NONE, 0},
    {"POST", "/api/mcp/enrich", gw_h_mcp_enrich, GW_BODY_JSON, 0},
    {"POST", "/api/mcp/search-contacts", gw_h_mcp_search_contacts, GW_BODY_JSON, 0},
    {"POST", "/api/mcp/call", gw_h_mcp_call, GW_BODY_JSON, 0},
    {"GET", "/api/openapi.json", gw_h_openapi, GW_BODY_NONE, 0},
    {"GET", "/metrics", gw_h_metrics, GW_BODY_NONE, 0},
};

const gw_route_t *gw_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
