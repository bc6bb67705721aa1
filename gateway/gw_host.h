/* The HTTP edge's rule for a request's Host (or an absolute-form target's authority): pure, so
 * that it is unit-tested and fuzzed (tests/fuzz/fuzz_host.c). */
#ifndef GW_HOST_H
#define GW_HOST_H
#include <stddef.h>

typedef enum {
    GW_HOST_BAD = -1,     /* not an authority: empty name, a port that is not 1 to 5 digits, an
                             unclosed '[', '@', '/', '\\', a blank or a control byte */
    GW_HOST_OTHER = 0,    /* a name or address that is not loopback */
    GW_HOST_LOOPBACK = 1, /* localhost, 127.x.y.z (four decimal parts) or [::1], any port */
} gw_host_kind_t;

/* Classifies h[0..n) (not NUL-terminated; may hold any byte). */
gw_host_kind_t gw_host_kind(const char *h, size_t n);

#endif
