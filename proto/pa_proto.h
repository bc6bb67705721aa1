/* The wire envelope between gateway and workers. */
#ifndef PA_PROTO_H
#define PA_PROTO_H
#endif
