/* Suppression values (the domains and e-mail addresses no form is ever sent to), normalised so
 * that the form worker's look-up is an exact match: pure functions, no I/O, unit-tested and fuzzed
 * (tests/unit/test_suppress.c, tests/fuzz/fuzz_suppress.c).
 *
 * A domain is a host name in lowercase ASCII: a URL (http or https) is reduced to its host by
 * libcurl's URL API; scheme, userinfo-free authority, port, path, query and a final dot go; an
 * internationalised name becomes its A-label (punycode, UTS #46 non-transitional, by ICU), so
 * "https://Bücher.Example:8443/kontakt" is "xn--bcher-kva.example". IP addresses are refused: a
 * suppression names a site, and a site's address changes. An e-mail address is checked with the
 * gateway's rule (gw_email_valid), lowercased, and its domain normalised the same way. */
#ifndef GW_SUPPRESS_H
#define GW_SUPPRESS_H
#include <stddef.h>

/* A normalised value fits in this many bytes with its NUL (an address is at most 254). */
#define GW_SUPPRESS_VALUE_MAX 256
/* What is read of a value before it is refused as too long (a URL may be long; its host not). */
#define GW_SUPPRESS_INPUT_MAX 2048

typedef enum { GW_SUP_ANY = 0, GW_SUP_DOMAIN, GW_SUP_EMAIL } gw_sup_kind_t;

/* "domain" or "email". */
const char *gw_sup_kind_name(gw_sup_kind_t k);
/* The kind a name says ("domain", "email"; also "domains", "emails"), GW_SUP_ANY when s is NULL
 * or empty, -1 when it names none. */
int gw_sup_kind_parse(const char *s);

/* Normalises s[0..n) (surrounding blanks ignored) as a value of kind; GW_SUP_ANY infers it (an
 * '@' outside a URL makes an e-mail address). Writes the value to out (GW_SUPPRESS_VALUE_MAX
 * bytes) and returns its kind; -1 with a sentence saying what is wrong in err. */
int gw_suppress_normalize(gw_sup_kind_t kind, const char *s, size_t n,
                          char out[GW_SUPPRESS_VALUE_MAX], char *err, size_t errlen);

#endif
