/* UTF-8 helpers: validation and Unicode-aware case folding for search. */
#ifndef PA_UTF8_H
#define PA_UTF8_H
#include <stddef.h>
#include "pa_buf.h"

/* 1 when s[0..n) is well-formed UTF-8 without NUL bytes. */
int pa_utf8_valid(const char *s, size_t n);
/* Appends the lowercase form of s to out (invalid bytes are copied as they are). */
void pa_utf8_fold(const char *s, size_t n, pa_buf_t *out);
/* Number of code points (invalid bytes count one each). */
size_t pa_utf8_len(const char *s, size_t n);

#endif
