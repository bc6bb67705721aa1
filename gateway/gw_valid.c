/* Input validation that answers 400 problems; see gw_valid.h. */
#include "gw_valid.h"

#include "pa_keys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"
#include "pa_utf8.h"

#define MAX_VARIABLES 50

int gw_valid_fail(gw_valid_t *v, const char *field, const char *fmt, ...)
{
    if (v->failed) return -1;
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    gw_problem(v->r, 400, "invalid-field", field, "%s", detail);
    v->failed = 1;
    return -1;
}

int gw_valid_object(gw_valid_t *v, const json_t *o, const char *path, const char *what)
{
    if (v->failed) return -1;
    if (json_is_object(o)) return 0;
    if (path) return gw_valid_fail(v, path, "%s: must be %s", path, what);
    return gw_valid_fail(v, NULL, "expected %s", what);
}

int gw_valid_only(gw_valid_t *v, const json_t *o, const char *where, const char *const *allowed)
{
    if (v->failed) return -1;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)o, k, x) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, k) == 0;
        if (!ok) {
            char f[160];
            snprintf(f, sizeof f, "%s%s%.64s", where, *where ? "." : "", k);
            return gw_valid_fail(v, f, "%s: unknown field", f);
        }
    }
    return 0;
}

const char *gw_valid_str(gw_valid_t *v, const json_t *o, const char *name, const char *path,
                         size_t min, size_t max)
{
    if (v->failed) return NULL;
    json_t *x = json_object_get(o, name);
    if (!x || json_is_null(x)) {
        if (min) gw_valid_fail(v, path, "%s: is required", path);
        return NULL;
    }
    if (!json_is_string(x) || !pa_utf8_valid(json_string_value(x), json_string_length(x))) {
        gw_valid_fail(v, path, "%s: must be a string (UTF-8, no NUL bytes)", path);
        return NULL;
    }
    size_t cps = pa_utf8_len(json_string_value(x), json_string_length(x));
    if (cps < min || cps > max) {
        gw_valid_fail(v, path, "%s: must be %zu to %zu characters", path, min, max);
        return NULL;
    }
    return json_string_value(x);
}

int gw_valid_bool(gw_valid_t *v, const json_t *o, const char *name, const char *path, int def)
{
    json_t *x = json_object_get(o, name);
    if (v->failed || !x) return def;
    if (!json_is_boolean(x)) {
        gw_valid_fail(v, path, "%s: must be true or false", path);
        return def;
    }
    return json_is_true(x);
}

/* An email address (gw_email_valid). */
static int valid_email(gw_valid_t *v, const char *s, const char *path)
{
    if (v->failed) return -1;
    if (s && gw_email_valid(s, strlen(s))) return 0;
    return gw_valid_fail(v, path, "%s: must be an address like name@example.com", path);
}

const char *gw_valid_id(gw_valid_t *v, const json_t *o, const char *name, const char *path)
{
    json_t *x = json_object_get(o, name);
    if (v->failed || !x || json_is_null(x)) return NULL;
    if (!json_is_string(x) || !gw_id_valid(json_string_value(x), json_string_length(x))) {
        gw_valid_fail(v, path, "%s: must be 1 to %d characters of A-Z a-z 0-9 . _ -", path,
                      GW_ID_MAX);
        return NULL;
    }
    return json_string_value(x);
}

static int variable_name_ok(const char *k)
{
    size_t kl = strlen(k);
    int ok = kl >= 1 && kl <= 64;
    for (size_t i = 0; i < kl && ok; i++)
        ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
             (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '.';
    return ok;
}

int gw_valid_variables(gw_valid_t *v, const json_t *vars, const char *path)
{
    if (v->failed) return -1;
    if (!json_is_object(vars))
        return gw_valid_fail(
            v, path, "%s: must be an object of names to strings, numbers or booleans", path);
    if (json_object_size(vars) > MAX_VARIABLES)
        return gw_valid_fail(v, path, "%s: at most %d variables", path, MAX_VARIABLES);
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)vars, k, x) {
        if (!variable_name_ok(k))
            return gw_valid_fail(v, path, "%s: variable names are 1 to 64 of A-Z a-z 0-9 _ .",
                                 path);
        if (!(json_is_string(x) || json_is_number(x) || json_is_boolean(x)) ||
            (json_is_string(x) && (json_string_length(x) > 2000 ||
                                   !pa_utf8_valid(json_string_value(x), json_string_length(x)))))
            return gw_valid_fail(
                v, path, "%s.%s: must be a string of at most 2000 bytes, a number or a boolean",
                path, k);
    }
    return 0;
}

/* 1 when x is a good value of the LLM parameter k, 0 when not, -1 when k is unknown. */
static int llm_param_ok(const char *k, const json_t *x)
{
    if (strcmp(k, "temperature") == 0)
        return json_is_number(x) && json_number_value(x) >= 0 && json_number_value(x) <= 2;
    if (strcmp(k, "top_p") == 0)
        return json_is_number(x) && json_number_value(x) >= 0 && json_number_value(x) <= 1;
    if (strcmp(k, "max_tokens") == 0)
        return json_is_integer(x) && json_integer_value(x) >= 1 && json_integer_value(x) <= 100000;
    if (strcmp(k, "seed") == 0) return json_is_integer(x);
    if (strcmp(k, "stop") == 0) {
        int ok = json_is_string(x) ||
                 (json_is_array(x) && json_array_size(x) >= 1 && json_array_size(x) <= 4);
        size_t i;
        json_t *y;
        if (json_is_array(x))
            json_array_foreach((json_t *)x, i, y) ok &= json_is_string(y);
        return ok;
    }
    return -1;
}

int gw_valid_llm_params(gw_valid_t *v, const json_t *p, const char *path)
{
    if (gw_valid_object(v, p, path, "an object") < 0) return -1;
    const char *k;
    json_t *x;
    char f[96];
    json_object_foreach((json_t *)p, k, x) {
        snprintf(f, sizeof f, "%s.%.40s", path, k);
        int ok = llm_param_ok(k, x);
        if (ok < 0)
            return gw_valid_fail(
                v, f, "%s: unknown parameter (temperature, top_p, max_tokens, stop, seed)", f);
        if (!ok) return gw_valid_fail(v, f, "%s: out of range or of the wrong type", f);
    }
    return 0;
}

int gw_valid_sender(gw_valid_t *v, const json_t *s, const char *path)
{
    static const char *const fields[] = {"name",  "email",   "company", "phone",
                                         "title", "website", NULL};
    static const struct {
        const char *name;
        size_t min, max;
    } limits[] = {{"name", 1, 200}, {"email", 1, 254}, {"company", 0, 200},
                  {"phone", 0, 50}, {"title", 0, 200}, {"website", 0, 2048}};
    char what[96], f[64];
    snprintf(what, sizeof what, "an object {name, email, company?, phone?, title?, website?}");
    if (gw_valid_object(v, s, path, what) < 0 || gw_valid_only(v, s, path, fields) < 0) return -1;
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        snprintf(f, sizeof f, "%s.%s", path, limits[i].name);
        const char *x = gw_valid_str(v, s, limits[i].name, f, limits[i].min, limits[i].max);
        if (x && strcmp(limits[i].name, "email") == 0) valid_email(v, x, f);
    }
    return v->failed ? -1 : 0;
}

int gw_valid_limit(gw_valid_t *v, const char *s, size_t def, size_t max, size_t *out)
{
    *out = def;
    if (v->failed) return -1;
    if (!s) return 0;
    char *e;
    long n = strtol(s, &e, 10);
    if (!*s || *e || n < 1 || (size_t)n > max)
        return gw_valid_fail(v, "limit", "limit: must be an integer from 1 to %zu", max);
    *out = (size_t)n;
    return 0;
}

_Static_assert(GW_TASK_KEY_MAX == PA_TASK_KEY_MAX, "one size of task key");

int gw_task_key_of(const char *id, size_t n, char tk[GW_TASK_KEY_MAX])
{
    size_t t = n;
    while (t > 0 && id[t - 1] >= '0' && id[t - 1] <= '9') t--;
    size_t digits = n - t;
    if (digits < PA_TASK_DIGITS || digits > 9 || t < 2 || id[t - 1] != '-' ||
        !gw_id_valid(id, t - 1))
        return -1;
    snprintf(tk, GW_TASK_KEY_MAX, "%.*s:%.*s", (int)(t - 1), id, (int)digits, id + t);
    return 0;
}

void gw_task_id_of(const char *tk, char *out, size_t cap)
{
    const char *c = strrchr(tk, ':'); /* J's last colon splits it */
    size_t jl = c ? (size_t)(c - tk) : strlen(tk);
    snprintf(out, cap, "%.*s-%s", (int)jl, tk, c ? c + 1 : "");
}
