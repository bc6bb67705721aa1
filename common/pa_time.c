/* Clocks: monotonic for intervals, wall clock for timestamps. */
#include "pa_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t pa_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t pa_mono_ms(void)
{
    return pa_mono_us() / 1000u;
}

uint64_t pa_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pa_time_rfc3339(uint64_t wall_ms, char out[25])
{
    time_t t = (time_t)(wall_ms / 1000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[64]; /* sized for any int values, so the compiler can prove no truncation */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(wall_ms % 1000u));
    memcpy(out, tmp, 24);
    out[24] = '\0';
}

void pa_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}
