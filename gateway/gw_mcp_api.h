/* The MCP look-ups: GET /api/mcp/tools, POST /api/mcp/enrich, /api/mcp/search-contacts and
 * /api/mcp/call, each answered on the open request from a one-task job of the mcp service (stage
 * mcp_call), as POST /api/llm/generate is. */
#ifndef GW_MCP_API_H
#define GW_MCP_API_H
#include "gw_http.h"

void gw_h_mcp_tools(gw_t *gw, gw_req_t *r);
void gw_h_mcp_enrich(gw_t *gw, gw_req_t *r);
void gw_h_mcp_search_contacts(gw_t *gw, gw_req_t *r);
void gw_h_mcp_call(gw_t *gw, gw_req_t *r);

#endif
