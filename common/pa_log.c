/* JSON-lines logging. Lines are built on the stack and written with one write(2), so
 * concurrent threads never interleave within a line. */
#include "pa_log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pa_buf.h"
#include "pa_time.h"

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};
static pa_log_level_t threshold = PA_LOG_INFO;
static const char *service_name = "prospect";
static int log_fd = 2;

void pa_log_init(const char *service, pa_log_level_t level, int fd)
{
    service_name = service;
    threshold = level;
    log_fd = fd;
}

int pa_log_parse_level(const char *s, pa_log_level_t *out)
{
    static const char *alias[] = {"debug", "info", "warning", "error", "off"};
    for (int i = 0; i <= PA_LOG_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0 || strcasecmp(s, alias[i]) == 0) {
            *out = (pa_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

int pa_log_enabled(pa_log_level_t level)
{
    return level >= threshold && level < PA_LOG_OFF;
}

void pa_log_kv(pa_log_level_t level, const char *msg, const pa_kv_t *kv, size_t n)
{
    if (!pa_log_enabled(level)) return;
    char ts[25];
    pa_time_rfc3339(pa_wall_ms(), ts);
    pa_buf_t h = PA_BUF_INIT;
    pa_buf_t *o = &h;
    pa_buf_reserve(o, 512);
    pa_buf_puts(o, "{\"ts\":\"");
    pa_buf_puts(o, ts);
    pa_buf_puts(o, "\",\"level\":\"");
    pa_buf_puts(o, level_names[level]);
    pa_buf_puts(o, "\",\"service\":");
    pa_buf_json_str(o, service_name, strlen(service_name));
    pa_buf_puts(o, ",\"msg\":");
    pa_buf_json_str(o, msg, strlen(msg));
    for (size_t i = 0; i < n; i++) {
        const pa_kv_t *f = &kv[i];
        if (!f->k || (f->t == 's' && !f->v.s)) continue;
        pa_buf_putc(o, ',');
        pa_buf_json_str(o, f->k, strlen(f->k));
        pa_buf_putc(o, ':');
        switch (f->t) {
        case 's': pa_buf_json_str(o, f->v.s, strlen(f->v.s)); break;
        case 'i': pa_buf_printf(o, "%lld", f->v.i); break;
        case 'f':
            if (isfinite(f->v.f)) pa_buf_printf(o, "%.3f", f->v.f);
            else pa_buf_puts(o, "null"); /* JSON has no NaN or infinity */
            break;
        case 'b': pa_buf_puts(o, f->v.i ? "true" : "false"); break;
        default: pa_buf_puts(o, "null");
        }
    }
    pa_buf_puts(o, "}\n");
    ssize_t off = 0;
    while ((size_t)off < o->len) {
        ssize_t w = write(log_fd, o->data + off, o->len - (size_t)off);
        if (w <= 0) break;
        off += w;
    }
    pa_buf_free(o);
}
