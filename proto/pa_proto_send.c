/* Sending a message on the worker link: encode once, send the frames without blocking. */
#include <zmq.h>

#include "pa_log.h"
#include "pa_proto.h"

int pa_proto_send(void *zsock, const void *ident, size_t ident_len, const pa_msg_t *m)
{
    unsigned char hdr[PA_PROTO_HEADER_LEN];
    pa_buf_t body = PA_BUF_INIT;
    char err[PA_PROTO_ERRLEN];
    if (pa_proto_encode(m, hdr, &body, err, sizeof err) < 0) {
        pa_error("cannot encode a message", PA_S("command", pa_msg_name(m)), PA_S("error", err));
        pa_buf_free(&body);
        return -1;
    }
    int rc = 0;
    if ((ident && zmq_send(zsock, ident, ident_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) ||
        zmq_send(zsock, hdr, sizeof hdr, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(zsock, body.data ? body.data : "", body.len, ZMQ_DONTWAIT) < 0)
        rc = -1;
    pa_buf_free(&body);
    return rc;
}
