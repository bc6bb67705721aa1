/* /api/campaigns: list, create and read campaigns, stored as Redis hashes (with an optional
 * sender that runs of the campaign use when they name none). */
#ifndef GW_CAMPAIGNS_API_H
#define GW_CAMPAIGNS_API_H
#include "gw_http.h"

void gw_h_campaigns_list(gw_t *gw, gw_req_t *r);
void gw_h_campaigns_create(gw_t *gw, gw_req_t *r);
void gw_h_campaign_get(gw_t *gw, gw_req_t *r);

#endif
