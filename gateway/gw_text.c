/* Pure predicates over the strings the API accepts; see gw_text.h. */
#include "gw_text.h"

#include <string.h>

int gw_token_valid(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

int gw_id_valid(const char *s, size_t n)
{
    return gw_token_valid(s, n, GW_ID_MAX);
}

int gw_email_valid(const char *s, size_t n)
{
    if (n < 3 || n > 254) return 0;
    const char *at = memchr(s, '@', n);
    if (!at || at == s || at == s + n - 1 || memchr(at + 1, '@', (size_t)(s + n - at - 1)))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == '<' || s[i] == '>' || s[i] == ',') return 0;
    const char *dom = at + 1;
    size_t dl = (size_t)(s + n - dom);
    return memchr(dom, '.', dl) && dom[0] != '.' && dom[dl - 1] != '.';
}
