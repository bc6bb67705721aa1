/* UTF-8 helpers: decoding, validation and Unicode-aware case folding for search. */
#ifndef PA_UTF8_H
#define PA_UTF8_H
#include <stddef.h>
#include <stdint.h>

#include "pa_buf.h"

/* The suite's one UTF-8 decoder: the length of the well-formed sequence at s (n bytes left) and
 * its code point in *cp; 0 when it is malformed (overlong, a surrogate, past U+10FFFF, cut
 * short) or n is 0. A NUL byte decodes as U+0000 (pa_utf8_valid refuses it). */
size_t pa_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* 1 when s[0..n) is well-formed UTF-8 without NUL bytes. */
int pa_utf8_valid(const char *s, size_t n);
/* Appends the lowercase form of s to out (invalid bytes are copied as they are). */
void pa_utf8_fold(const char *s, size_t n, pa_buf_t *out);
/* Number of code points (invalid bytes count one each). */
size_t pa_utf8_len(const char *s, size_t n);

#endif
