/* /api/suppressions: the domains and e-mail addresses no form is ever sent to (the form worker
 * checks them before any request): list, add (JSON or CSV) and remove. Values are normalised by
 * gw_suppress.h. */
#ifndef GW_SUPPRESSIONS_API_H
#define GW_SUPPRESSIONS_API_H
#include "gw_http.h"

void gw_h_suppressions_list(gw_t *gw, gw_req_t *r);
void gw_h_suppressions_add(gw_t *gw, gw_req_t *r);
/* DELETE /api/suppressions?value=...[&kind=...] */
void gw_h_suppressions_delete(gw_t *gw, gw_req_t *r);
/* DELETE /api/suppressions/{value} */
void gw_h_suppression_delete(gw_t *gw, gw_req_t *r);

#endif
