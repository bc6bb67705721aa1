/* Configuration from environment variables. */
#include "pa_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *pa_env_str(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v && *v) ? v : def;
}

int pa_env_long(const char *name, long def, long min, long max, long *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < min || x > max) {
        snprintf(err, errlen, "%s: expected an integer from %ld to %ld, got '%.40s'", name, min,
                 max, v);
        return -1;
    }
    *out = x;
    return 0;
}

int pa_env_bool(const char *name, int def, int *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = 0, 0;
    }
    snprintf(err, errlen, "%s: expected true or false, got '%.40s'", name, v);
    return -1;
}

int pa_env_size(const char *name, size_t def, size_t min, size_t max, size_t *out, char *err,
                size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    /* strtoull accepts blanks and a minus sign (wrapping it round): only digits may start */
    unsigned long long x = (v[0] >= '0' && v[0] <= '9') ? strtoull(v, &end, 10) : 0;
    if (!(v[0] >= '0' && v[0] <= '9')) end = (char *)v;
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1024ull, end++;
    else if (*end == 'm' || *end == 'M') mul = 1024ull * 1024, end++;
    else if (*end == 'g' || *end == 'G') mul = 1024ull * 1024 * 1024, end++;
    if (errno || *end || end == v || v[0] == '-' || x > max / mul || x * mul < min) {
        snprintf(
            err, errlen,
            "%s: expected a size from %zu to %zu bytes (k, m, g suffixes allowed), got '%.40s'",
            name, min, max, v);
        return -1;
    }
    *out = (size_t)(x * mul);
    return 0;
}
