/* libFuzzer target for suppression values (gateway/gw_suppress.c).
 *
 * Input: a kind byte (any, domain, email), then any bytes, a value. Checks: the answer is -1 with
 * an empty value and a reason, or a kind; a domain comes out as 1 to 253 bytes of [a-z0-9.-] and
 * an address as local@domain with that domain and no ASCII capital; normalising the result again
 * gives it back unchanged (one spelling per site); nothing reads outside the input (ASan).
 *
 * Sources: this file, gateway/gw_suppress.c, gateway/gw_text.c, common/pa_utf8.c (libcurl, ICU). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_suppress.h"

static void fail(const char *why, const char *v)
{
    fprintf(stderr, "fuzz_suppress: %s: '%s'\n", why, v);
    abort();
}

static int host_ok(const char *h, size_t n)
{
    if (n == 0 || n > 253) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= '0' && h[i] <= '9') || h[i] == '-' ||
              h[i] == '.'))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    gw_sup_kind_t kind = (gw_sup_kind_t)(data[0] % 3);
    size--;
    char *s = malloc(size ? size : 1); /* exactly size bytes: ASan sees any read past them */
    if (!s) return 0;
    if (size) memcpy(s, data + 1, size);
    char out[GW_SUPPRESS_VALUE_MAX], again[GW_SUPPRESS_VALUE_MAX], err[200] = "";
    int k = gw_suppress_normalize(kind, s, size, out, err, sizeof err);
    free(s);
    if (k < 0) {
        if (out[0] || !err[0]) fail("refused without a reason, or with a value", out);
        return 0;
    }
    if (k != GW_SUP_DOMAIN && k != GW_SUP_EMAIL) fail("an unknown kind", out);
    if (kind != GW_SUP_ANY && k != (int)kind) fail("another kind than asked", out);
    size_t n = strlen(out);
    if (k == GW_SUP_DOMAIN && !host_ok(out, n)) fail("a domain that is not a host name", out);
    if (k == GW_SUP_EMAIL) {
        const char *at = strrchr(out, '@');
        if (!at || at == out || !host_ok(at + 1, strlen(at + 1)) || n > 254)
            fail("an address that is not local@host", out);
        for (const char *p = out; p < at; p++)
            if (*p >= 'A' && *p <= 'Z') fail("a capital in an address", out);
    }
    if (gw_suppress_normalize((gw_sup_kind_t)k, out, n, again, err, sizeof err) != k ||
        strcmp(again, out) != 0)
        fail("normalising twice changes it", out);
    return 0;
}
