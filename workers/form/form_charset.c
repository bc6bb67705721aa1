/* A fetched page's bytes to UTF-8: the charset from a BOM, the Content-Type, the <meta> prescan
 * of the first 1024 bytes, else UTF-8 when the bytes are UTF-8 and Windows-1252 when not (the
 * HTML standard's order, BOM first). Windows-1252 and ISO-8859-1 (decoded as Windows-1252, as
 * browsers do) by table, the rest by iconv. */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form_page_int.h"
#include "pa_mem.h"
#include "pa_utf8.h"

/* 0x80..0x9F of Windows-1252 (0 where it has no character: those bytes map to C1 controls) */
static const uint16_t cp1252_hi[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static size_t put_cp(char *o, uint32_t cp)
{
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 63)), 2;
    o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 63));
    o[2] = (char)(0x80 | (cp & 63));
    return 3;
}

/* One charset we know: its labels (WHATWG's, the common ones) and how to decode it. */
typedef struct {
    const char *name;  /* what form_page_charset says */
    const char *iconv; /* NULL: by table (1252) or none (UTF-8) */
    const char *labels;
} cs_t;

static const cs_t charsets[] = {
    {"utf-8", NULL, " utf-8 utf8 unicode-1-1-utf-8 x-unicode20utf8 "},
    {"windows-1252", NULL, " windows-1252 cp1252 x-cp1252 ascii us-ascii ansi_x3.4-1968 "},
    {"iso-8859-1", NULL, " iso-8859-1 iso8859-1 iso_8859-1 latin1 l1 iso-ir-100 cp819 ibm819 "},
    {"shift_jis", "CP932", " shift_jis shift-jis sjis ms_kanji windows-31j x-sjis csshiftjis "},
    {"euc-jp", "EUC-JP", " euc-jp x-euc-jp "},
    {"iso-2022-jp", "ISO-2022-JP", " iso-2022-jp csiso2022jp "},
    {"gbk", "GB18030", " gbk gb2312 gb_2312-80 x-gbk chinese csgb2312 "},
    {"gb18030", "GB18030", " gb18030 "},
    {"big5", "BIG5-HKSCS", " big5 big5-hkscs x-x-big5 cn-big5 "},
    {"euc-kr", "CP949", " euc-kr ks_c_5601-1987 windows-949 korean "},
    {"iso-8859-2", "ISO-8859-2", " iso-8859-2 latin2 l2 "},
    {"iso-8859-5", "ISO-8859-5", " iso-8859-5 cyrillic "},
    {"iso-8859-7", "ISO-8859-7", " iso-8859-7 greek "},
    {"iso-8859-15", "ISO-8859-15", " iso-8859-15 latin9 l9 "},
    {"windows-1250", "CP1250", " windows-1250 cp1250 "},
    {"windows-1251", "CP1251", " windows-1251 cp1251 "},
    {"windows-1253", "CP1253", " windows-1253 cp1253 "},
    {"windows-1254", "CP1254", " windows-1254 cp1254 iso-8859-9 latin5 "},
    {"windows-1256", "CP1256", " windows-1256 cp1256 "},
    {"koi8-r", "KOI8-R", " koi8-r koi8 cskoi8r "},
    {"koi8-u", "KOI8-U", " koi8-u "},
    {"utf-16le", "UTF-16LE", " utf-16le utf-16 "},
    {"utf-16be", "UTF-16BE", " utf-16be "},
};

/* The charset a label names, or NULL. */
static const cs_t *lookup(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '"' || *s == '\'' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == '\t')) n--;
    if (!n || n > 40) return NULL;
    char key[44];
    key[0] = ' ';
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        key[i + 1] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    key[n + 1] = ' ', key[n + 2] = 0;
    for (size_t i = 0; i < sizeof charsets / sizeof *charsets; i++)
        if (strstr(charsets[i].labels, key)) return &charsets[i];
    return NULL;
}

/* The charset= parameter of a Content-Type (or of a meta content attribute). */
static const cs_t *from_content_type(const char *s, size_t n)
{
    for (size_t i = 0; i + 7 < n; i++) {
        if (strncasecmp(s + i, "charset", 7) != 0) continue;
        size_t j = i + 7;
        while (j < n && s[j] == ' ') j++;
        if (j >= n || s[j] != '=') continue;
        j++;
        while (j < n && s[j] == ' ') j++;
        size_t k = j;
        if (k < n && (s[k] == '"' || s[k] == '\'')) {
            char q = s[k++];
            j = k;
            while (k < n && s[k] != q) k++;
        } else {
            while (k < n && s[k] != ';' && s[k] != ' ' && s[k] != ',') k++;
        }
        return lookup(s + j, k - j);
    }
    return NULL;
}

/* The value of attribute name in the tag text t[0..n) (after "<meta"), or NULL. */
static const char *attr(const char *t, size_t n, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + nl < n; i++) {
        if ((i == 0 || t[i - 1] == ' ' || t[i - 1] == '\t' || t[i - 1] == '\n' || t[i - 1] == '"' ||
             t[i - 1] == '\'' || t[i - 1] == '/') &&
            strncasecmp(t + i, name, nl) == 0) {
            size_t j = i + nl;
            while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n')) j++;
            if (j >= n || t[j] != '=') continue;
            j++;
            while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n')) j++;
            size_t k = j;
            if (k < n && (t[k] == '"' || t[k] == '\'')) {
                char q = t[k++];
                j = k;
                while (k < n && t[k] != q) k++;
            } else {
                while (k < n && t[k] != ' ' && t[k] != '>' && t[k] != '\t' && t[k] != '\n') k++;
            }
            *vlen = k - j;
            return t + j;
        }
    }
    return NULL;
}

/* The <meta charset> / <meta http-equiv=content-type content="...charset=..."> prescan of the
 * first 1024 bytes (comments skipped). */
static const cs_t *from_meta(const char *s, size_t n)
{
    if (n > 1024) n = 1024;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '<') continue;
        if (i + 4 <= n && memcmp(s + i, "<!--", 4) == 0) {
            const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
            if (!e) return NULL;
            i = (size_t)(e - s) + 2;
            continue;
        }
        if (i + 6 > n || strncasecmp(s + i, "<meta", 5) != 0 ||
            !(s[i + 5] == ' ' || s[i + 5] == '\t' || s[i + 5] == '\n' || s[i + 5] == '/'))
            continue;
        const char *t = s + i + 5, *end = memchr(t, '>', n - i - 5);
        size_t tn = end ? (size_t)(end - t) : n - i - 5, vn;
        const char *v = attr(t, tn, "charset", &vn);
        if (v) {
            const cs_t *c = lookup(v, vn);
            if (c) return c;
        }
        const char *he = attr(t, tn, "http-equiv", &vn);
        if (he && vn == 12 && strncasecmp(he, "content-type", 12) == 0 &&
            (v = attr(t, tn, "content", &vn))) {
            const cs_t *c = from_content_type(v, vn);
            if (c) return c;
        }
    }
    return NULL;
}

/* UTF-8 with malformed sequences replaced by U+FFFD and NUL bytes dropped. */
static size_t utf8_clean(const char *s, size_t n, char *o)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = pa_utf8_decode(s + i, n - i, &cp);
        if (l && cp) {
            memcpy(o + k, s + i, l);
            k += l, i += l;
        } else {
            if (l) i += l; /* NUL */
            else k += put_cp(o + k, 0xFFFD), i++;
        }
    }
    o[k] = 0;
    return k;
}

static size_t cp1252(const char *s, size_t n, char *o)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp = c >= 0x80 && c < 0xA0 && cp1252_hi[c - 0x80] ? cp1252_hi[c - 0x80] : c;
        if (cp) k += put_cp(o + k, cp);
    }
    o[k] = 0;
    return k;
}

/* By iconv; a byte it cannot convert becomes U+FFFD. -1 when iconv does not know the charset. */
static long by_iconv(const char *name, const char *s, size_t n, char **out)
{
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) return -1;
    size_t cap = n * 3 + 16, left = cap - 1;
    char *o = pa_malloc(cap), *op = o, *ip = (char *)s;
    size_t in = n;
    while (in) {
        if (iconv(cd, &ip, &in, &op, &left) != (size_t)-1) break;
        if (errno == E2BIG) break; /* cannot happen: 3 bytes per byte is enough */
        /* EILSEQ or EINVAL (cut short): replace one byte */
        if (left < 3) break;
        size_t w = put_cp(op, 0xFFFD);
        op += w, left -= w, ip++, in--;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    iconv_close(cd);
    /* iconv may pass NULs through; the text must not hold any, nor invalid UTF-8 */
    size_t len = (size_t)(op - o);
    char *clean = pa_malloc(len * 3 + 1);
    len = utf8_clean(o, len, clean);
    free(o);
    *out = clean;
    return (long)len;
}

size_t fp_decode(const char *body, size_t len, const char *content_type, char **out,
                 const char **charset)
{
    const cs_t *cs = NULL;
    const unsigned char *u = (const unsigned char *)body;
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        cs = &charsets[0];
        body += 3, len -= 3;
    } else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
        cs = lookup("utf-16le", 8);
        body += 2, len -= 2;
    } else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
        cs = lookup("utf-16be", 8);
        body += 2, len -= 2;
    }
    if (!cs && content_type) cs = from_content_type(content_type, strlen(content_type));
    if (!cs) {
        cs = from_meta(body, len);
        /* a meta in an ASCII-compatible page cannot say UTF-16 (the standard's rule) */
        if (cs && strncmp(cs->name, "utf-16", 6) == 0) cs = &charsets[0];
    }
    if (!cs) cs = pa_utf8_valid(body, len) ? &charsets[0] : &charsets[1];
    *charset = cs->name;
    *out = NULL;
    if (cs == &charsets[0]) {
        if (pa_utf8_valid(body, len) && (const char *)u == body) return len;
        char *o = pa_malloc(len * 3 + 1);
        *out = o;
        return utf8_clean(body, len, o);
    }
    if (!cs->iconv) {
        char *o = pa_malloc(len * 3 + 1);
        *out = o;
        return cp1252(body, len, o);
    }
    long r = by_iconv(cs->iconv, body, len, out);
    if (r >= 0) return (size_t)r;
    *charset = charsets[1].name; /* iconv lacks it: read it as browsers' default */
    char *o = pa_malloc(len * 3 + 1);
    *out = o;
    return cp1252(body, len, o);
}

/* ---- encoding a post's values in the page's charset ---- */

char *fp_encode(const char *charset, const char *s, size_t n, size_t *outlen)
{
    const cs_t *cs = charset ? lookup(charset, strlen(charset)) : NULL;
    /* UTF-8 pages (and UTF-16 ones, which browsers answer in UTF-8) send the text as it is */
    if (!cs || cs == &charsets[0] || strncmp(cs->name, "utf-16", 6) == 0) return NULL;
    /* Latin-1 is read as Windows-1252 (the standard's rule): encode it so too */
    iconv_t cd = iconv_open(cs->iconv ? cs->iconv : "CP1252", "UTF-8");
    if (cd == (iconv_t)-1) return NULL;
    size_t cap = n * 4 + 16;
    char *o = pa_malloc(cap), *op = o, *ip = (char *)s;
    size_t in = n, left = cap - 1;
    while (in) {
        if (iconv(cd, &ip, &in, &op, &left) != (size_t)-1) break;
        if (errno == E2BIG) { /* numeric references can outgrow the guess */
            size_t used = (size_t)(op - o);
            cap = cap * 2 + 16;
            o = pa_realloc(o, cap);
            op = o + used;
            left = cap - used - 1;
            continue;
        }
        /* a character the charset cannot hold: a numeric character reference, as browsers do */
        uint32_t cp;
        size_t k = pa_utf8_decode(ip, in, &cp);
        if (!k) k = 1, cp = 0xFFFD;
        char ref[16];
        int rn = snprintf(ref, sizeof ref, "&#%u;", (unsigned)cp);
        if (left < (size_t)rn) {
            size_t used = (size_t)(op - o);
            cap = cap * 2 + 16;
            o = pa_realloc(o, cap);
            op = o + used;
            left = cap - used - 1;
        }
        memcpy(op, ref, (size_t)rn);
        op += rn, left -= (size_t)rn, ip += k, in -= k;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    /* the shift sequence back to the initial state (ISO-2022-JP) */
    if (left < 8) {
        size_t used = (size_t)(op - o);
        o = pa_realloc(o, cap + 16);
        op = o + used;
        left += 16;
    }
    iconv(cd, NULL, NULL, &op, &left);
    iconv_close(cd);
    *op = '\0';
    *outlen = (size_t)(op - o);
    return o;
}
