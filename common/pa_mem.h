/* Allocation wrappers: every allocation in the suite goes through these; out of memory aborts. */
#ifndef PA_MEM_H
#define PA_MEM_H
#include <stddef.h>

void *pa_malloc(size_t n);
void *pa_calloc(size_t n, size_t size);
void *pa_realloc(void *p, size_t n);
char *pa_strdup(const char *s);
char *pa_strndup(const char *s, size_t n);
/* Makes jansson and hiredis allocate through these wrappers (so out of memory aborts there too).
 * Call first thing in every daemon's main(), before any thread starts. */
void pa_mem_install_hooks(void);

#endif
