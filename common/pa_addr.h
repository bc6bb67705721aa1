/* Is this address internal? Pure classifiers of host strings (as a URL names them) and of socket
 * addresses (as a connection is made to them), so that the gateway refuses a run's internal
 * targets when the run is created and a worker refuses them again on the address it actually
 * connects to (its HTTP engine's connect hook: redirects and DNS answers included).
 *
 * A host string is classified as a URL parser would read it, not only in its tidy form:
 *   - IPv4 in every spelling inet_aton(3), curl and browsers accept: one to four parts, each
 *     decimal, octal (leading 0) or hex (0x): 2130706433, 0x7f.1, 0177.0.0.1, 127.1 are all
 *     127.0.0.1; a name whose last label is numeric but is no valid address is PA_ADDR_INVALID;
 *   - IPv6 in brackets ("[::1]"), a zone ("[fe80::1%25eth0]") making it link-local;
 *   - names: "localhost" and "*.localhost" are loopback (RFC 6761), "*.local" link-local (mDNS),
 *     "*.internal" and "*.home.arpa" private, "metadata.google.internal" the metadata service;
 *     a trailing dot is ignored. Any other name is PA_ADDR_PUBLIC here: what it resolves to is
 *     for the connecting side to check, with pa_addr_classify_sockaddr.
 * No function allocates, reads the environment or resolves names. */
#ifndef PA_ADDR_H
#define PA_ADDR_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef enum {
    PA_ADDR_PUBLIC = 0,
    PA_ADDR_LOOPBACK,   /* 127.0.0.0/8, ::1, localhost, *.localhost */
    PA_ADDR_PRIVATE,    /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, *.internal */
    PA_ADDR_LINK_LOCAL, /* 169.254/16, fe80::/10, *.local */
    PA_ADDR_CGNAT,      /* 100.64.0.0/10 (RFC 6598) */
    PA_ADDR_METADATA,   /* 169.254.169.254, fd00:ec2::254, 100.100.100.200, metadata.google.internal
                         */
    PA_ADDR_UNSPECIFIED, /* 0.0.0.0/8, :: */
    PA_ADDR_RESERVED,    /* multicast, 240/4 and broadcast, 192.0.0/24, 198.18/15, 2001::/32 ... */
    PA_ADDR_INVALID,     /* not a host a URL may name (a numeric name that is no address, ...) */
} pa_addr_class_t;

/* "public", "loopback", "private", "link-local", "CGNAT", "metadata", "unspecified", "reserved",
 * "invalid". */
const char *pa_addr_class_name(pa_addr_class_t c);

/* 1 when a connection to an address of this class may be made: public, or loopback when
 * allow_loopback (ALLOW_PRIVATE_TARGETS, tests only). */
int pa_addr_allowed(pa_addr_class_t c, int allow_loopback);

/* IPv4 address in host byte order (0x7f000001 is 127.0.0.1). */
pa_addr_class_t pa_addr_classify_v4(uint32_t a);
/* IPv6 address (network order bytes); v4-mapped, v4-compatible, NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16) addresses are classified by the IPv4 address they carry. */
pa_addr_class_t pa_addr_classify_v6(const uint8_t a[16]);
/* AF_INET or AF_INET6; anything else (or a short length) is PA_ADDR_INVALID. */
pa_addr_class_t pa_addr_classify_sockaddr(const struct sockaddr *sa, socklen_t len);

/* Parses an IPv4 address in any spelling inet_aton(3) accepts (see above) from s[0..n).
 * 1 with *out (host order) when it is one; 0 when it is not IPv4-shaped (a name); -1 when it
 * looks numeric (its last label is a number) but is no valid address (e.g. 1.2.3.256). */
int pa_addr_parse_v4(const char *s, size_t n, uint32_t *out);

/* Classifies a URL's host s[0..n) (no port; IPv6 in brackets). When canon is not NULL and the
 * host is an IP literal, its canonical text goes there ("127.0.0.1", "[::1]"; at most 48 bytes
 * with the NUL); otherwise canon[0] is '\0'. */
pa_addr_class_t pa_addr_classify_host(const char *s, size_t n, char canon[48]);

#endif
