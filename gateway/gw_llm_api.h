/* POST /api/llm/generate: one prompt to the llm service, answered on the open request. */
#ifndef GW_LLM_API_H
#define GW_LLM_API_H
#include "gw_http.h"

void gw_h_llm_generate(gw_t *gw, gw_req_t *r);

#endif
