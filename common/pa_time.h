/* Clocks: monotonic for intervals, wall clock for timestamps. */
#ifndef PA_TIME_H
#define PA_TIME_H
#include <stdint.h>
#include <stddef.h>

uint64_t pa_mono_us(void);
uint64_t pa_mono_ms(void);
uint64_t pa_wall_ms(void);
/* Formats a wall-clock time in ms as RFC 3339 UTC with milliseconds; out needs 25 bytes. */
void pa_time_rfc3339(uint64_t wall_ms, char out[25]);
void pa_sleep_ms(unsigned ms);

#endif
