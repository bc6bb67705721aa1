/* The dashboard's built files, from memory (gw_static.h). */
#include "gw_static.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "gw_http.h"
#include "pa_mem.h"

#define MAX_FILES 4096
#define MAX_DEPTH 8

typedef struct {
    char *path; /* "/assets/index-3f2a.js" */
    const char *ctype;
    unsigned char *body, *gz; /* gz NULL: not worth compressing */
    size_t len, gzlen;
    char etag[24], gz_etag[28]; /* each representation its own (RFC 9110 8.8.3) */
    int immutable;              /* under /assets/: Vite names them by their content's hash */
} file_t;

struct gw_static {
    file_t *f;
    size_t n;
    const file_t *index;
    size_t total;
};

static const struct {
    const char *ext, *ctype;
    int compress;
} types[] = {
    {".html", "text/html; charset=utf-8", 1},
    {".js", "text/javascript; charset=utf-8", 1},
    {".mjs", "text/javascript; charset=utf-8", 1},
    {".css", "text/css; charset=utf-8", 1},
    {".json", "application/json", 1},
    {".map", "application/json", 1},
    {".svg", "image/svg+xml", 1},
    {".txt", "text/plain; charset=utf-8", 1},
    {".webmanifest", "application/manifest+json", 1},
    {".ico", "image/x-icon", 1},
    {".png", "image/png", 0},
    {".jpg", "image/jpeg", 0},
    {".jpeg", "image/jpeg", 0},
    {".gif", "image/gif", 0},
    {".webp", "image/webp", 0},
    {".woff2", "font/woff2", 0},
    {".woff", "font/woff", 0},
};

static const char *ctype_of(const char *path, int *compress)
{
    const char *dot = strrchr(path, '.');
    *compress = 0;
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0) {
                *compress = types[i].compress;
                return types[i].ctype;
            }
    return "application/octet-stream";
}

/* gzip of p (level 9), or NULL when it saves less than a tenth. */
static unsigned char *gzip(const unsigned char *p, size_t n, size_t *out)
{
    z_stream z = {0};
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    unsigned char *buf = pa_malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)p, z.avail_in = (uInt)n;
    z.next_out = buf, z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || len >= n - n / 10) {
        free(buf);
        return NULL;
    }
    *out = len;
    return buf;
}

/* FNV-1a 64 of the body: the ETag. */
static void etag_of(file_t *f)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < f->len; i++) h = (h ^ f->body[i]) * 1099511628211ULL;
    snprintf(f->etag, sizeof f->etag, "\"%016llx\"", (unsigned long long)h);
    snprintf(f->gz_etag, sizeof f->gz_etag, "\"%016llx-gz\"", (unsigned long long)h);
}

static int add_file(gw_static_t *s, int dirfd, const char *name, const char *rel, char *err,
                    size_t errlen)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) { /* swapped since the walk */
        close(fd);
        return 0;
    }
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "DASHBOARD_DIR: %s: %s", rel, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    if (s->n == MAX_FILES || (size_t)st.st_size > GW_STATIC_MAX_BYTES - s->total) {
        snprintf(err, errlen, "DASHBOARD_DIR: more than %d files or %u MiB in all", MAX_FILES,
                 GW_STATIC_MAX_BYTES >> 20);
        close(fd);
        return -1;
    }
    file_t f = {0};
    f.len = (size_t)st.st_size;
    f.body = pa_malloc(f.len ? f.len : 1);
    size_t got = 0;
    while (got < f.len) {
        ssize_t k = read(fd, f.body + got, f.len - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    if (got != f.len) {
        snprintf(err, errlen, "DASHBOARD_DIR: %s: short read", rel);
        free(f.body);
        return -1;
    }
    f.path = pa_strdup(rel);
    int compress;
    f.ctype = ctype_of(rel, &compress);
    if (compress && f.len >= 512) f.gz = gzip(f.body, f.len, &f.gzlen);
    f.immutable = strncmp(rel, "/assets/", 8) == 0;
    etag_of(&f);
    s->f = pa_realloc(s->f, (s->n + 1) * sizeof *s->f);
    s->f[s->n++] = f;
    s->total += f.len;
    return 0;
}

static int walk(gw_static_t *s, int dirfd, const char *rel, int depth, char *err, size_t errlen)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        snprintf(err, errlen, "DASHBOARD_DIR: %s: %s", rel[0] ? rel : "/", strerror(errno));
        close(dirfd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., and hidden files are not served */
        char path[1024];
        if (snprintf(path, sizeof path, "%s/%s", rel, e->d_name) >= (int)sizeof path) continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
        if (S_ISREG(st.st_mode)) {
            rc = add_file(s, dirfd, e->d_name, path, err, errlen);
        } else if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) rc = walk(s, sub, path, depth + 1, err, errlen);
        }
    }
    closedir(d); /* closes dirfd */
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const file_t *)a)->path, ((const file_t *)b)->path);
}

gw_static_t *gw_static_open(const char *dir, char *err, size_t errlen)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "DASHBOARD_DIR: %s: %s", dir, strerror(errno));
        return NULL;
    }
    gw_static_t *s = pa_calloc(1, sizeof *s);
    if (walk(s, fd, "", 0, err, errlen) < 0) {
        gw_static_free(&s);
        return NULL;
    }
    if (s->n) qsort(s->f, s->n, sizeof *s->f, by_path); /* an empty directory has no array */
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->f[i].path, "/index.html") == 0) s->index = &s->f[i];
    if (!s->index) {
        snprintf(err, errlen,
                 "DASHBOARD_DIR: %s has no index.html (build it: cd dashboard && npm ci && npm run "
                 "build)",
                 dir);
        gw_static_free(&s);
        return NULL;
    }
    return s;
}

void gw_static_free(gw_static_t **sp)
{
    gw_static_t *s = *sp;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->f[i].path);
        free(s->f[i].body);
        free(s->f[i].gz);
    }
    free(s->f);
    free(s);
    *sp = NULL;
}

size_t gw_static_count(const gw_static_t *s)
{
    return s ? s->n : 0;
}

static const file_t *find(const gw_static_t *s, const char *path)
{
    file_t key = {.path = (char *)(uintptr_t)path};
    if (!s->n) return NULL;
    return bsearch(&key, s->f, s->n, sizeof *s->f, by_path);
}

/* 1 when Accept-Encoding names gzip (or *) with a weight above 0 (RFC 9110 12.5.3). */
static int accepts_gzip(const char *ae)
{
    for (const char *p = ae; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t')) p++, n--;
        size_t tok = 0;
        while (tok < n && p[tok] != ';' && p[tok] != ' ' && p[tok] != '\t') tok++;
        if ((tok == 4 && strncasecmp(p, "gzip", 4) == 0) || (tok == 1 && *p == '*')) {
            int ok = 1;
            for (size_t i = tok; i + 1 < n; i++) /* a q parameter of this element only */
                if ((p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=' &&
                    (p[i - 1] == ';' || p[i - 1] == ' '))
                    ok = strtod(p + i + 2, NULL) > 0.0;
            if (ok) return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "     \
    "data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "             \
    "form-action 'self'; frame-ancestors 'none'"

static const char not_built[] =
    "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Prospect AI</title>"
    "<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>Prospect AI</h1>"
    "<p>The API is up (<a href=\"/api/health\">/api/health</a>, "
    "<a href=\"/api/openapi.json\">/api/openapi.json</a>). The dashboard is not built or not "
    "configured: <code>cd dashboard &amp;&amp; npm ci &amp;&amp; npm run build</code>, then start "
    "the gateway with <code>DASHBOARD_DIR=dashboard/dist</code> (<code>make run</code> does "
    "both when npm is installed).</p></body></html>\n";

void gw_static_serve(const gw_static_t *s, gw_req_t *r)
{
    if (!s) {
        gw_reply(r, 200, "text/html; charset=utf-8", pa_strdup(not_built), sizeof not_built - 1);
        gw_header(r, "Cache-Control", "no-store");
        gw_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
        return;
    }
    const file_t *f = find(s, strcmp(r->path, "/") == 0 ? "/index.html" : r->path);
    if (!f) {
        /* a missing asset is a 404 (a stale page after a new build asks for old names); any
         * other path is one of the dashboard's own pages */
        const char *dot = strrchr(r->path, '.');
        if (strncmp(r->path, "/assets/", 8) == 0 || (dot && !strchr(r->path + 1, '/'))) {
            gw_problem(r, 404, "not-found", NULL, "no file %s in the dashboard", r->path);
            return;
        }
        f = s->index;
    }
    const char *inm = gw_req_header(r, "If-None-Match");
    int gz = f->gz && accepts_gzip(gw_req_header(r, "Accept-Encoding"));
    const char *etag = gz ? f->gz_etag : f->etag;
    /* a list of tags, weak ones (W/"...") compared weakly, or * */
    if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
        gw_reply(r, 304, NULL, NULL, 0);
    } else { /* HEAD too: libmicrohttpd sends the headers only */
        gw_reply_static(r, 200, f->ctype, gz ? f->gz : f->body, gz ? f->gzlen : f->len);
        if (gz) gw_header(r, "Content-Encoding", "gzip");
    }
    if (f->gz) gw_header(r, "Vary", "Accept-Encoding");
    gw_header(r, "ETag", etag);
    gw_header(r, "Cache-Control",
              f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    gw_header(r, "X-Content-Type-Options", "nosniff");
    gw_header(r, "Referrer-Policy", "no-referrer");
    gw_header(r, "X-Frame-Options", "DENY");
    if (f == s->index || strstr(f->ctype, "html")) gw_header(r, "Content-Security-Policy", CSP);
}
