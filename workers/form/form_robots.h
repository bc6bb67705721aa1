/* robots.txt as RFC 9309 reads it, for one user agent: the groups that name the agent's product
 * token (case-insensitive; all matching groups merged), else the "*" groups; rules matched on the
 * URL's path and query (percent-encoding normalised as the RFC says), the longest match wins and
 * Allow wins a tie; "*" matches any run of characters and "$" ends a pattern; an empty Disallow
 * allows. Crawl-delay (not in the RFC, honoured as sites mean it) is read from the same group.
 * A robots.txt fetched with a 4xx status allows everything; 5xx or unreachable disallows
 * everything. Bodies over 500 KiB are parsed up to that bound (RFC 9309 2.5). Pure: no I/O, no
 * globals; fuzzed (tests/fuzz/fuzz_robots.c). */
#ifndef FORM_ROBOTS_H
#define FORM_ROBOTS_H
#include <stdbool.h>
#include <stddef.h>

#define FORM_ROBOTS_MAX_BYTES (500 * 1024)

typedef struct form_robots form_robots_t;

/* status: the HTTP status robots.txt was fetched with (200...), or 0 when it could not be fetched
 * (connection refused, timeout, too many redirects...). body may be NULL for a status without one.
 * user_agent: the worker's User-Agent or its product token ("ProspectAI/1.0 (+https://...)":
 * the token is the part before the first '/' or blank). NULL only when out of memory. */
form_robots_t *form_robots_parse(long status, const char *body, size_t len,
                                 const char *user_agent);
void form_robots_free(form_robots_t **r);

typedef struct {
    bool allowed;
    /* The deciding rule as written ("Disallow: /private/*", "Allow: /contact$"), or a sentence
     * when no rule decided ("no rule matches", "robots.txt answered 503: everything disallowed",
     * "robots.txt answered 404: everything allowed"). Points into r. */
    const char *rule;
    int line; /* the rule's line number (1-based), 0 when none */
    const char *group; /* the user-agent line(s) of the group that applied, or "" */
} form_robots_verdict_t;

/* May `path` (a URL's path with its query, e.g. "/contact?x=1", or a whole URL: its path and
 * query are taken) be fetched? */
void form_robots_check(const form_robots_t *r, const char *path, form_robots_verdict_t *v);
/* The Crawl-delay of the group that applies, in milliseconds (capped at 60 s), or 0. */
long form_robots_crawl_delay_ms(const form_robots_t *r);

#endif
