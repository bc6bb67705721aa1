/* The operator dashboard's built files (DASHBOARD_DIR, e.g. dashboard/dist), served from memory:
 * read once at start, each compressible file also gzipped once, looked up by exact path (no file
 * system access per request, so no path can reach outside the directory). Any other GET outside
 * /api/ answers index.html (the dashboard routes in the browser). */
#ifndef GW_STATIC_H
#define GW_STATIC_H
#include <stddef.h>

typedef struct gw_static gw_static_t;
struct gw_req;
struct gw;

/* Reads every regular file under dir (at most GW_STATIC_MAX_BYTES in all, 4,096 files; symbolic
 * links are not followed). NULL with a message naming DASHBOARD_DIR in err: no index.html, too
 * big, unreadable. */
#define GW_STATIC_MAX_BYTES (64u << 20)
gw_static_t *gw_static_open(const char *dir, char *err, size_t errlen);
void gw_static_free(gw_static_t **s);
size_t gw_static_count(const gw_static_t *s);

/* Answers a GET or HEAD of r->path from s (NULL: the page saying the dashboard is not built). */
void gw_static_serve(const gw_static_t *s, struct gw_req *r);

#endif
