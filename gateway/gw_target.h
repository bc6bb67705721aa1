/* Campaign targets: a URL or a bare domain, normalised so that duplicates collapse. */
#ifndef GW_TARGET_H
#define GW_TARGET_H
#include <stddef.h>

#include "pa_buf.h"

#define GW_TARGET_MAX 2048

/* Appends the normalised URL to out: http or https (https when no scheme is given), lowercase
 * scheme and host, no default port, no fragment, "/" for an empty path. -1 with a reason in
 * err when it is not a usable web address. */
int gw_target_normalize(const char *s, size_t n, pa_buf_t *out, char *err, size_t errlen);

#endif
