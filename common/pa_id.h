/* Time-sortable unique ids (ULID layout: 48-bit ms time + 80 random bits, Crockford base32). */
#ifndef PA_ID_H
#define PA_ID_H

#include <stdint.h>

#define PA_ID_LEN 26

/* Writes a new id (lowercase, 26 chars + NUL). Ids made by one process sort in creation order. */
void pa_id_new(char out[PA_ID_LEN + 1]);
/* The id of time ms and 80 bits r (a derived id: the same inputs give the same id). */
void pa_id_make(char out[PA_ID_LEN + 1], uint64_t ms, const uint8_t r[10]);

#endif
