/* Where may a worker connect? The SSRF guard for target websites, used by the form worker (every
 * URL before it is fetched, every redirect hop, every address actually connected to), by the
 * gateway (run targets at creation) and by `prospectctl check-target`, so all three answer alike.
 *
 * A URL is refused unless (parsed with libcurl's URL API, never by hand):
 *   - its scheme is http or https; it has no userinfo; no control characters or blanks anywhere;
 *   - its port is one of the allowed ports (default 80, 443, 8080, 8443), written as a plain
 *     decimal number in range (no truncation to 16 bits: :65616 is refused, not port 80);
 *   - its host is a name of at least two labels that is not special-use (localhost, *.localhost,
 *     *.local, *.internal, *.home.arpa, *.onion, *.test, *.invalid, *.example?, *.arpa, ...) and
 *     not an IP literal of a non-public class (pa_addr: every IPv4 spelling, IPv6, v4-mapped);
 *   - an IDN host (punycode or Unicode) is valid under UTS #46 (nontransitional, CheckBidi,
 *     CheckJoiners; hyphen placement is not checked, as in the WHATWG URL standard), mixes no
 *     scripts within a label (ICU's spoof checker: a single script, or Latin with
 *     Han/Hiragana/Katakana, Latin with Han/Bopomofo, Latin with Han/Hangul, as UTS #39's
 *     "highly restrictive" level allows) nor digits of two numbering systems, holds only
 *     characters UTS #39 recommends for identifiers and no invisible or default-ignorable
 *     characters; labels of different scripts may meet in one name ("пример.com", a Greek
 *     name under .gr) unless a label's confusable skeleton is plain ASCII: Cyrillic "аррӏе.com"
 *     looks like a Latin name and is refused ("mixes scripts (Cyrillic, Latin)").
 * A port written with leading zeros (":0080") is read by curl as the decimal number it is (80):
 * nothing wraps; 0, signs, hex and numbers past 65535 are refused. A host curl percent-decodes
 * ("ex%61mple.com") is checked as decoded. One trailing dot is dropped from a name.
 * An address connected to is refused when pa_addr classes it as anything but public.
 * The exception, for tests and the bundled demo sites: ALLOWED_PRIVATE_TARGETS lists exactly
 * which non-public addresses and ports may be reached, e.g. "127.0.0.1:18400-18499,[::1]:18400";
 * a URL naming such an address with such a port passes (IP literals only; ports in the list
 * pass even when not among the allowed ports), and so does a connection to it. Every other
 * non-public address stays refused. */
#ifndef PA_GUARD_H
#define PA_GUARD_H
#include <stddef.h>
#include <sys/socket.h>

typedef struct pa_guard pa_guard_t;

/* ports: a comma-separated list of ports and ranges ("80,443,8080,8443", NULL: that default);
 * allowed_private: the ALLOWED_PRIVATE_TARGETS list (NULL or "": none). NULL with a message
 * naming the bad item in err. */
pa_guard_t *pa_guard_new(const char *ports, const char *allowed_private, char *err, size_t errlen);
/* From the environment: TARGET_PORTS and ALLOWED_PRIVATE_TARGETS (err names the variable). */
pa_guard_t *pa_guard_from_env(char *err, size_t errlen);
void pa_guard_free(pa_guard_t **g);
/* The exception list as configured ("" when none), for the loud start-up log. */
const char *pa_guard_allowed_private(const pa_guard_t *g);

/* 0 when url may be fetched; -1 with the reason in reason ("scheme ftp is not http or https",
 * "port 22 is not an allowed port (80, 443, 8080, 8443)", "host 10.0.0.1 is a private address",
 * "host intranet is a single-label name", "host x.onion is a special-use domain (.onion)",
 * "host xn--80ak6aa92e.com mixes scripts (Cyrillic, Latin)", ...). When origin is not NULL it
 * gets the URL's origin on success: "scheme://host:port", lowercase, the port always written
 * (e.g. "https://example.com:443"), IDN hosts in punycode. */
int pa_guard_url(const pa_guard_t *g, const char *url, char *origin, size_t originlen, char *reason,
                 size_t reasonlen);
/* 0 when a connection to addr (port: its port) may be made; -1 with the reason
 * ("127.0.0.1 is a loopback address", "10.1.2.3:8080 is not in ALLOWED_PRIVATE_TARGETS"). */
int pa_guard_addr(const pa_guard_t *g, const struct sockaddr *addr, socklen_t len, char *reason,
                  size_t reasonlen);

#endif
