/* UTF-8 validation and case folding. Folding uses glibc's C.UTF-8 tables through towlower_l, so
 * no global locale is touched. */
#include "pa_utf8.h"

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <wctype.h>

size_t pa_utf8_decode(const char *str, size_t n, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    if (!n) return 0;
    unsigned char c = s[0];
    if (c < 0x80) return *cp = c, 1;
    size_t len;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) len = 2, v = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0) len = 3, v = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

static size_t encode(uint32_t v, char out[4])
{
    if (v < 0x80) return out[0] = (char)v, 1;
    if (v < 0x800) {
        out[0] = (char)(0xc0 | (v >> 6));
        out[1] = (char)(0x80 | (v & 0x3f));
        return 2;
    }
    if (v < 0x10000) {
        out[0] = (char)(0xe0 | (v >> 12));
        out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
        out[2] = (char)(0x80 | (v & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (v >> 18));
    out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((v >> 6) & 0x3f));
    out[3] = (char)(0x80 | (v & 0x3f));
    return 4;
}

int pa_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        if (p[i] == 0) return 0;
        size_t k = pa_utf8_decode((const char *)p + i, n - i, &cp);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

static locale_t utf8_locale;
static pthread_once_t locale_once = PTHREAD_ONCE_INIT;

static void locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

void pa_utf8_fold(const char *s, size_t n, pa_buf_t *out)
{
    pthread_once(&locale_once, locale_init);
    const unsigned char *p = (const unsigned char *)s;
    pa_buf_reserve(out, n);
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            char c = (char)p[i];
            if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
            pa_buf_putc(out, c);
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = pa_utf8_decode((const char *)p + i, n - i, &cp);
        if (!k) {
            pa_buf_putc(out, (char)p[i]);
            i++;
            continue;
        }
        uint32_t lo = utf8_locale ? (uint32_t)towlower_l((wint_t)cp, utf8_locale) : cp;
        char enc[4];
        pa_buf_put(out, enc, encode(lo, enc));
        i += k;
    }
}

size_t pa_utf8_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;
    for (size_t i = 0; i < n; count++) {
        uint32_t cp;
        size_t k = pa_utf8_decode((const char *)p + i, n - i, &cp);
        i += k ? k : 1;
    }
    return count;
}
