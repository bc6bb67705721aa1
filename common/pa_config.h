/* Configuration from environment variables: defaults, bounds, and errors that name the variable. */
#ifndef PA_CONFIG_H
#define PA_CONFIG_H
#include <stddef.h>

/* Each returns 0 and sets *out (the default when the variable is unset or empty), or -1 with a
 * message naming the variable in err. */
int pa_env_long(const char *name, long def, long min, long max, long *out, char *err,
                size_t errlen);
int pa_env_bool(const char *name, int def, int *out, char *err, size_t errlen);
/* Borrowed pointer into the environment, or def. */
const char *pa_env_str(const char *name, const char *def);
/* Size with an optional k/m/g suffix (powers of 1024). */
int pa_env_size(const char *name, size_t def, size_t min, size_t max, size_t *out, char *err,
                size_t errlen);

#endif
