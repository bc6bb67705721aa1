/* Campaign targets: a URL or a bare domain, normalised so that duplicates collapse. */
#ifndef GW_TARGET_H
#define GW_TARGET_H
#include <stddef.h>

#include "pa_addr.h"
#include "pa_buf.h"
#include "pa_guard.h"

#define GW_TARGET_MAX 2048

/* Appends the normalised URL to out: http or https (https when no scheme is given), lowercase
 * scheme and host, an IP address in its canonical form (2130706433 and 0x7f.1 are 127.0.0.1,
 * "[0::1]" is "[::1]"), no default port, no fragment, "/" for an empty path. -1 with a reason in
 * err when it is not a usable web address. */
int gw_target_normalize(const char *s, size_t n, pa_buf_t *out, char *err, size_t errlen);

/* The class of the address a normalised URL's host names (pa_addr_classify_host): an IP literal
 * (normalised to its dotted-quad or bracketed canonical form) by its range, localhost and other
 * special-use names by name, any other name PA_ADDR_PUBLIC (what it resolves to is checked by the
 * worker that connects). */
pa_addr_class_t gw_target_class(const char *url);

/* 1 when a normalised URL names a non-public IP literal with a port that ALLOWED_PRIVATE_TARGETS
 * (g, NULL when unset) lists, so that a run may target it; 0 otherwise. */
int gw_target_private_listed(const pa_guard_t *g, const char *url);

#endif
