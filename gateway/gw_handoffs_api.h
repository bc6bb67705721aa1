/* /api/handoffs: the tasks a form worker handed to a person (a CAPTCHA guards the form: the task
 * ended captcha_required), oldest first, with the page and every value it would have posted; and
 * marking one done once a person has finished it. */
#ifndef GW_HANDOFFS_API_H
#define GW_HANDOFFS_API_H
#include "gw_http.h"

void gw_h_handoffs_list(gw_t *gw, gw_req_t *r);
void gw_h_handoff_complete(gw_t *gw, gw_req_t *r);

#endif
