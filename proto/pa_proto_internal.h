/* Test and fuzz hooks of the codec: the same code driven by a caller's declaration, so that field
 * types no message uses yet (INT, BOOL, ANY) are exercised. Not for daemons. */
#ifndef PA_PROTO_INTERNAL_H
#define PA_PROTO_INTERNAL_H
#include "pa_proto.h"

/* A message of a caller-declared kind; field ids are (d->code << 8) | index. d must outlive it. */
pa_msg_t *pa_msg__new_desc(const pa_proto_msg_desc_t *d);

/* pa_proto_decode after the header: the body checks alone, against d. */
int pa_proto__decode_body(const pa_proto_msg_desc_t *d, const void *body, size_t body_len,
                          pa_msg_t **out, char *err, size_t errlen);

#endif
