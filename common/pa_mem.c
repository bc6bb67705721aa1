/* The allocation hooks that make the libraries follow the suite's out-of-memory policy (abort,
 * never a NULL to handle): jansson and hiredis allocate through pa_malloc and friends. */
#include "pa_mem.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdlib.h>

void pa_mem_install_hooks(void)
{
    json_set_alloc_funcs(pa_malloc, free);
#if HIREDIS_MAJOR >= 1
    static hiredisAllocFuncs fns = {
        .mallocFn = pa_malloc,
        .callocFn = pa_calloc,
        .reallocFn = pa_realloc,
        .strdupFn = pa_strdup,
        .freeFn = free,
    };
    hiredisSetAllocators(&fns);
#endif
    /* hiredis 0.14 (the version Debian 12 ships) has no allocator hooks: its hi_malloc family
     * aborts on failure by itself (HIREDIS_OOM_HANDLER), and what it allocates with plain malloc
     * comes back as a REDIS_ERR_OOM error, which pa_redis treats like a lost connection. */
}
