/* The gateway's route table: every method and path the API serves, its handler, its body kind
 * and whether it needs an API key. The OpenAPI test compares it with docs/openapi.json. */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H
#include <stddef.h>

#include "gw_http.h"

const gw_route_t *gw_routes(size_t *n);

#endif
