/* POST /api/prospects/import: NDJSON or CSV rows upserted by email in pipelined batches. */
#ifndef GW_IMPORT_API_H
#define GW_IMPORT_API_H
#include "gw_http.h"

void gw_h_prospects_import(gw_t *gw, gw_req_t *r);

#endif
