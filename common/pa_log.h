/* JSON-lines logging: one line per event with ts, level, service, msg and typed fields. */
#ifndef PA_LOG_H
#define PA_LOG_H
#include <stddef.h>

typedef enum {
    PA_LOG_DEBUG = 0,
    PA_LOG_INFO,
    PA_LOG_WARN,
    PA_LOG_ERROR,
    PA_LOG_OFF
} pa_log_level_t;

typedef struct {
    const char *k;
    char t; /* 's' string, 'i' integer, 'f' double, 'b' boolean */
    union {
        const char *s;
        long long i;
        double f;
    } v;
} pa_kv_t;

#define PA_S(k_, v_) ((pa_kv_t){.k = (k_), .t = 's', .v.s = (v_)})
#define PA_I(k_, v_) ((pa_kv_t){.k = (k_), .t = 'i', .v.i = (long long)(v_)})
#define PA_F(k_, v_) ((pa_kv_t){.k = (k_), .t = 'f', .v.f = (double)(v_)})
#define PA_B(k_, v_) ((pa_kv_t){.k = (k_), .t = 'b', .v.i = !!(v_)})

/* Sets the service name and threshold; fd is where lines go (2 by default). */
void pa_log_init(const char *service, pa_log_level_t level, int fd);
int pa_log_parse_level(const char *s, pa_log_level_t *out);
int pa_log_enabled(pa_log_level_t level);
/* Writes one line with one write(2). A string field that is NULL is left out. */
void pa_log_kv(pa_log_level_t level, const char *msg, const pa_kv_t *kv, size_t n);

#define PA_LOG(level, msg, ...)                                                                    \
    do {                                                                                           \
        if (pa_log_enabled(level)) {                                                               \
            pa_kv_t kv_[] = {{0}, __VA_ARGS__};                                                    \
            pa_log_kv((level), (msg), kv_ + 1, sizeof kv_ / sizeof kv_[0] - 1);                    \
        }                                                                                          \
    } while (0)
#define pa_debug(msg, ...) PA_LOG(PA_LOG_DEBUG, msg, __VA_ARGS__)
#define pa_info(msg, ...) PA_LOG(PA_LOG_INFO, msg, __VA_ARGS__)
#define pa_warn(msg, ...) PA_LOG(PA_LOG_WARN, msg, __VA_ARGS__)
#define pa_error(msg, ...) PA_LOG(PA_LOG_ERROR, msg, __VA_ARGS__)

#endif
