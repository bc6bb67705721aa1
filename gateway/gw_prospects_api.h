/* /api/prospects: list with filters and cursors (from the in-memory index), create, read,
 * merge-patch, delete (through the store's Lua scripts). Import: gw_import_api.h. */
#ifndef GW_PROSPECTS_API_H
#define GW_PROSPECTS_API_H
#include "gw_http.h"

void gw_h_prospects_list(gw_t *gw, gw_req_t *r);
void gw_h_prospects_create(gw_t *gw, gw_req_t *r);
void gw_h_prospect_get(gw_t *gw, gw_req_t *r);
void gw_h_prospect_patch(gw_t *gw, gw_req_t *r);
void gw_h_prospect_delete(gw_t *gw, gw_req_t *r);

#endif
