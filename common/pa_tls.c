/* TLS for the Redis clients on OpenSSL (pa_tls.h). */
#include "pa_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pa_mem.h"

struct pa_tls_ctx {
    SSL_CTX *ctx;
    char *name; /* what the certificate must name */
    int is_ip;
};

/* The first error OpenSSL queued (then its queue is emptied), or fallback. */
static void ssl_err(char *err, size_t errlen, const char *what, const char *fallback)
{
    unsigned long e = ERR_get_error();
    char buf[256];
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, e ? buf : fallback);
    ERR_clear_error();
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

pa_tls_ctx_t *pa_tls_ctx_from_env(const char *host, char *err, size_t errlen)
{
    const char *ca = env("REDIS_TLS_CA"), *cert = env("REDIS_TLS_CERT"),
               *key = env("REDIS_TLS_KEY"), *name = env("REDIS_TLS_SERVER_NAME");
    if (!cert != !key) {
        snprintf(err, errlen, "%s: set REDIS_TLS_CERT and REDIS_TLS_KEY together",
                 cert ? "REDIS_TLS_KEY" : "REDIS_TLS_CERT");
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ssl_err(err, errlen, "rediss", "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    int ok;
    if (ca) {
        struct stat st;
        if (stat(ca, &st) != 0) {
            snprintf(err, errlen, "REDIS_TLS_CA: %s: %s", ca, strerror(errno));
            SSL_CTX_free(ctx);
            return NULL;
        }
        ok = S_ISDIR(st.st_mode) ? SSL_CTX_load_verify_locations(ctx, NULL, ca)
                                 : SSL_CTX_load_verify_locations(ctx, ca, NULL);
        if (!ok) {
            char what[300];
            snprintf(what, sizeof what, "REDIS_TLS_CA: %s", ca);
            ssl_err(err, errlen, what, "no certificate could be loaded");
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else if (!SSL_CTX_set_default_verify_paths(ctx)) {
        ssl_err(err, errlen, "rediss: the system's CA store", "cannot be loaded");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cert) {
        if (!SSL_CTX_use_certificate_chain_file(ctx, cert)) {
            char what[300];
            snprintf(what, sizeof what, "REDIS_TLS_CERT: %s", cert);
            ssl_err(err, errlen, what, "cannot be loaded");
            SSL_CTX_free(ctx);
            return NULL;
        }
        if (!SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) ||
            !SSL_CTX_check_private_key(ctx)) {
            char what[300];
            snprintf(what, sizeof what, "REDIS_TLS_KEY: %s", key);
            ssl_err(err, errlen, what, "cannot be loaded or does not match REDIS_TLS_CERT");
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    pa_tls_ctx_t *c = pa_calloc(1, sizeof *c);
    c->ctx = ctx;
    c->name = pa_strdup(name ? name : host);
    unsigned char addr[16];
    c->is_ip = inet_pton(AF_INET, c->name, addr) == 1 || inet_pton(AF_INET6, c->name, addr) == 1;
    return c;
}

void pa_tls_ctx_free(pa_tls_ctx_t **cp)
{
    pa_tls_ctx_t *c = *cp;
    if (!c) return;
    SSL_CTX_free(c->ctx);
    free(c->name);
    free(c);
    *cp = NULL;
}

pa_ssl_t *pa_tls_new(pa_tls_ctx_t *c, int fd, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL *s = SSL_new(c->ctx);
    if (!s) {
        ssl_err(err, errlen, "rediss", "cannot make a TLS session");
        return NULL;
    }
    int ok = SSL_set_fd(s, fd);
    if (ok && c->is_ip) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), c->name);
    } else if (ok) {
        ok = SSL_set_tlsext_host_name(s, c->name) && SSL_set1_host(s, c->name);
        SSL_set_hostflags(s, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    if (!ok) {
        ssl_err(err, errlen, "rediss", "cannot set up the TLS session");
        SSL_free(s);
        return NULL;
    }
    SSL_set_connect_state(s);
    return s;
}

void pa_tls_free(pa_ssl_t **s)
{
    if (!*s) return;
    SSL_free(*s);
    *s = NULL;
}

/* What an SSL call's result means (pa_tls.h's codes). */
static long result(SSL *s, int rc, const char *what, char *err, size_t errlen)
{
    int e = SSL_get_error(s, rc);
    if (e == SSL_ERROR_WANT_READ) return PA_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE) return PA_TLS_WANT_WRITE;
    if (e == SSL_ERROR_ZERO_RETURN) {
        snprintf(err, errlen, "the server closed the connection");
        ERR_clear_error();
        return PA_TLS_EOF;
    }
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        if (errno && rc < 0) snprintf(err, errlen, "%s: %s", what, strerror(errno));
        else snprintf(err, errlen, "the server closed the connection");
        return errno && rc < 0 ? PA_TLS_ERR : PA_TLS_EOF;
    }
    ssl_err(err, errlen, what, "failed");
    return PA_TLS_ERR;
}

/* OpenSSL writes to the socket with write(2): a server that went away would raise SIGPIPE, which
 * kills a process that does not ignore it. So SIGPIPE is blocked around each call and one it
 * raised is taken off the thread (the EPIPE is reported as an error instead). */
typedef struct {
    sigset_t old;
    int had;
} nopipe_t;

static void nopipe_begin(nopipe_t *np)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    np->had = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &np->old);
}

static void nopipe_end(nopipe_t *np)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    if (!np->had && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        int saved = errno;
        sigtimedwait(&pipe, NULL, &zero);
        errno = saved;
    }
    pthread_sigmask(SIG_SETMASK, &np->old, NULL);
}

int pa_tls_handshake(pa_ssl_t *s, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    nopipe_t np;
    nopipe_begin(&np);
    int rc = SSL_connect(s);
    nopipe_end(&np);
    if (rc == 1) return 1;
    long v = SSL_get_verify_result(s);
    if (v != X509_V_OK) {
        snprintf(err, errlen, "TLS handshake: the server's certificate was refused: %s",
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
        return PA_TLS_ERR;
    }
    long r = result(s, rc, "TLS handshake", err, errlen);
    return r == PA_TLS_EOF ? PA_TLS_ERR : (int)r;
}

long pa_tls_read(pa_ssl_t *s, void *buf, size_t n, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    nopipe_t np;
    nopipe_begin(&np);
    int rc = SSL_read(s, buf, n > 1 << 30 ? 1 << 30 : (int)n);
    nopipe_end(&np);
    if (rc > 0) return rc;
    return result(s, rc, "TLS read", err, errlen);
}

long pa_tls_write(pa_ssl_t *s, const void *buf, size_t n, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    nopipe_t np;
    nopipe_begin(&np);
    int rc = SSL_write(s, buf, n > 1 << 30 ? 1 << 30 : (int)n);
    nopipe_end(&np);
    if (rc > 0) return rc;
    long r = result(s, rc, "TLS write", err, errlen);
    return r == PA_TLS_EOF ? PA_TLS_ERR : r;
}

int pa_tls_pending(const pa_ssl_t *s)
{
    return SSL_pending(s);
}
