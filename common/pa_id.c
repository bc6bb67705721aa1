/* Time-sortable unique ids; monotonic within a millisecond, thread-safe. */
#include "pa_id.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "pa_time.h"

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static uint8_t last_rand[10];

void pa_id_new(char out[PA_ID_LEN + 1])
{
    uint8_t r[10];
    pthread_mutex_lock(&id_lock);
    uint64_t ms = pa_wall_ms();
    if (ms <= last_ms) {
        /* Same (or earlier) millisecond: increment the random part so ids stay ordered. */
        ms = last_ms;
        for (int i = 9; i >= 0 && ++last_rand[i] == 0; i--) {
        }
    } else {
        if (getrandom(last_rand, sizeof last_rand, 0) != (ssize_t)sizeof last_rand) {
            uint64_t x = pa_mono_us() ^ ((uint64_t)(uintptr_t)&x << 17);
            memcpy(last_rand, &x, 8);
        }
        last_ms = ms;
    }
    memcpy(r, last_rand, sizeof r);
    pthread_mutex_unlock(&id_lock);
    pa_id_make(out, ms, r);
}

void pa_id_make(char out[PA_ID_LEN + 1], uint64_t ms, const uint8_t r[10])
{
    static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";
    /* 128 bits = 48 time bits + 80 random bits, written as 26 base32 digits (130 bits). */
    uint8_t v[16];
    for (int i = 0; i < 6; i++) v[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(v + 6, r, 10);
    int bit = -2; /* the first digit holds only 3 bits */
    for (int d = 0; d < PA_ID_LEN; d++, bit += 5) {
        unsigned x = 0;
        for (int k = 0; k < 5; k++) {
            int p = bit + k;
            unsigned b = p < 0 ? 0 : (v[p / 8] >> (7 - p % 8)) & 1u;
            x = (x << 1) | b;
        }
        out[d] = b32[x];
    }
    out[PA_ID_LEN] = '\0';
}
