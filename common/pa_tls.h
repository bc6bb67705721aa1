/* TLS for the Redis clients (rediss://). Debian 12's hiredis 0.14 has no TLS, so the clients keep
 * hiredis for what it is good at (formatting commands into its output buffer, parsing replies
 * with its reader) and move the bytes themselves through OpenSSL on the socket hiredis connected:
 * no extra hop, no thread, and plain redis:// connections are untouched.
 *
 * The settings come from the environment (docs/configuration.md):
 *   REDIS_TLS_CA           CA certificate file (PEM) or directory that signs the server's
 *                          certificate; unset: the system's store
 *   REDIS_TLS_CERT,        this client's certificate chain and key (PEM), for a server with
 *   REDIS_TLS_KEY          tls-auth-clients yes (Redis's default); both or neither
 *   REDIS_TLS_SERVER_NAME  the name the server's certificate must carry (and SNI); unset: the
 *                          host of REDIS_URL (a DNS name or an IP address)
 * Verification is always on (TLS 1.2 or later, the chain to a trusted CA, the name or address):
 * there is no switch to turn it off; a self-signed server certificate is trusted by naming it in
 * REDIS_TLS_CA. */
#ifndef PA_TLS_H
#define PA_TLS_H
#include <stddef.h>

typedef struct pa_tls_ctx pa_tls_ctx_t;
typedef struct ssl_st pa_ssl_t; /* OpenSSL's SSL */

/* A client context from the environment; NULL with a message naming the variable in err. */
pa_tls_ctx_t *pa_tls_ctx_from_env(const char *host, char *err, size_t errlen);
void pa_tls_ctx_free(pa_tls_ctx_t **c);

/* A TLS session on a connected socket fd (the caller keeps the fd, which must be non-blocking);
 * NULL with a message. */
pa_ssl_t *pa_tls_new(pa_tls_ctx_t *c, int fd, char *err, size_t errlen);
/* Frees the session (no close_notify: the socket is closed right after). */
void pa_tls_free(pa_ssl_t **s);

enum { PA_TLS_ERR = -1, PA_TLS_WANT_READ = -2, PA_TLS_WANT_WRITE = -3, PA_TLS_EOF = -4 };

/* The handshake, one step: 1 done, PA_TLS_WANT_READ / _WRITE (wait for the socket and call again)
 * or PA_TLS_ERR with a message (why verification failed, say). */
int pa_tls_handshake(pa_ssl_t *s, char *err, size_t errlen);
/* Bytes read (> 0) or written (> 0), else PA_TLS_WANT_READ / _WRITE, PA_TLS_EOF (read only: the
 * server closed) or PA_TLS_ERR with a message. */
long pa_tls_read(pa_ssl_t *s, void *buf, size_t n, char *err, size_t errlen);
long pa_tls_write(pa_ssl_t *s, const void *buf, size_t n, char *err, size_t errlen);
/* Bytes OpenSSL has decrypted and not handed out yet (a poll on the socket does not see them). */
int pa_tls_pending(const pa_ssl_t *s);

#endif
