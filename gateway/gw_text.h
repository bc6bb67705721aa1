/* Pure predicates over the strings the API accepts: ids, tokens, email addresses. No I/O, no
 * HTTP: the prospect records, the HTTP layer and the validation module (gw_valid.h) share them. */
#ifndef GW_TEXT_H
#define GW_TEXT_H
#include <stddef.h>

#define GW_ID_MAX 64

/* 1 when s[0..n) is 1 to max characters of A-Z a-z 0-9 . _ - (ids, request ids). */
int gw_token_valid(const char *s, size_t n, size_t max);
/* An id: a token of at most GW_ID_MAX characters. */
int gw_id_valid(const char *s, size_t n);
/* 1 when s[0..n) looks like an address: one @ not first or last, a dot in the domain (not at its
 * ends), no blanks, controls or < > , and at most 254 bytes. */
int gw_email_valid(const char *s, size_t n);

#endif
