/* Fixture of the form worker's tests, on top of tests/llm-server/llm_fixture.h (processes by PID,
 * logs): the fixture corpus tests/form-sites/server.mjs (small websites, one origin per site, on
 * 127.0.0.1), its admin API (what each site received) and its manifest tests/form-sites/sites.json
 * (each site's expected outcome and the exact fields a correct worker posts). Header-only (static
 * functions); include it from tests/integration/test_*.c as "../form-sites/sites_fixture.h".
 *
 *   fs_server_t *fs = fs_server(NULL);                 // every site; or {"--sites", "a,b", NULL}
 *   ... ALLOWED_PRIVATE_TARGETS=fs_allow_list(fs), targets fs_url(fs, "cf7-studio", "/") ...
 *   json_t *site = fs_site("cf7-studio");
 *   fs_expect_result(site, result_submit);             // outcome, reason, embed, captcha kind
 *   fs_expect_posts(fs, site, NULL, message);          // the posts the manifest expects, exactly
 *   lf_finish();                                       // stops it (SIGTERM; it exits 0)
 *
 * Everything returned is harness-owned (freed by hr_cleanup / lf_cleanup). */
#ifndef PA_TESTS_SITES_FIXTURE_H
#define PA_TESTS_SITES_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../llm-server/llm_fixture.h"

#define FS_SERVER_JS PA_SOURCE_DIR "/tests/form-sites/server.mjs"
#define FS_MANIFEST PA_SOURCE_DIR "/tests/form-sites/sites.json"
#define FS_SUBJECT "Enquiry from Analytical Engines Ltd"

typedef struct {
    lf_proc_t *proc; /* the node process (stopped by lf_finish / lf_cleanup) */
    int admin;       /* the admin API's port (base - 1) */
    int base;        /* the first site's port */
    int nsites;
    json_t *sites; /* {"<name>": port} as the server printed it */
} fs_server_t;

/* 1 when nothing listens on 127.0.0.1:port (a bind succeeds). */
LF_FN int fs_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* The parsed manifest (sites.json: a JSON array, harness-owned, read once). */
LF_FN json_t *fs_manifest(void)
{
    static json_t *m;
    if (!m) {
        m = hr_jparse(hr_read_file(FS_MANIFEST));
        cr_assert(json_is_array(m) && json_array_size(m) > 0, "cannot read %s", FS_MANIFEST);
        json_incref(m); /* kept for the whole process: hr_cleanup drops only its own reference */
    }
    return m;
}

/* The manifest's entry of a site (fails the test when there is none). */
LF_FN json_t *fs_site(const char *name)
{
    size_t i;
    json_t *s;
    json_array_foreach(fs_manifest(), i, s) {
        const char *n = hr_jstr(s, "name");
        if (n && strcmp(n, name) == 0) return s;
    }
    cr_assert_fail("no site %s in %s", name, FS_MANIFEST);
    return NULL;
}

/* The contract's test sender as a JSON object (name, email, phone, company, website, title). */
LF_FN json_t *fs_sender(void)
{
    return hr_jparse("{\"name\":\"Ada Lovelace\",\"email\":\"ada@analytical-engines.example\","
                     "\"phone\":\"+44 20 7946 0000\",\"company\":\"Analytical Engines Ltd\","
                     "\"website\":\"https://analytical-engines.example\","
                     "\"title\":\"Head of Partnerships\"}");
}

/* Starts server.mjs on free ports of 127.0.0.1 with args (NULL-terminated, may be NULL: e.g.
 * {"--sites", "cf7-studio,django-robotics", NULL}, {"--delay-ms", "100", NULL}, {"--bench",
 * "500", NULL}) and waits (at most 20 s) for its JSON line. Ports are drawn below the ephemeral
 * range and tried again when taken. Skips the test when node is not installed. */
LF_FN fs_server_t *fs_server(const char *const *args)
{
    const char *node = lf_find_node();
    if (!node) cr_skip_test("node is not installed: the form-sites fixture server needs it");
    int count = (int)json_array_size(fs_manifest());
    for (size_t i = 0; args && args[i]; i++)
        if (strcmp(args[i], "--bench") == 0 && args[i + 1]) count = atoi(args[i + 1]);
    cr_assert(count > 0 && count < 5000, "bad site count %d", count);
    unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)hr_now_ms();
    for (int attempt = 0; attempt < 8; attempt++) {
        seed = seed * 1103515245u + 12345u;
        /* below Linux's ephemeral range (32768-60999), above the usual services */
        int base = 20001 + (int)((seed >> 8) % (unsigned)(32000 - 20001 - count));
        int free_ = 1;
        for (int p = base - 1; p < base + count && free_; p++) free_ = fs_port_free(p);
        if (!free_) continue;
        const char *v[32];
        lf_envbase(v, 32);
        const char *av[40] = {node,        FS_SERVER_JS,  "--host",
                              "127.0.0.1", "--base-port", hr_fmt("%d", base)};
        size_t k = 6;
        for (size_t i = 0; args && args[i] && k < 39; i++) av[k++] = args[i];
        av[k] = NULL;
        lf_proc_t *p = lf_spawn("form-sites", av, v);
        uint64_t deadline = hr_now_ms() + 20000;
        for (;;) {
            const char *out = lf_output(p), *line = strstr(out, "{\"admin\":");
            const char *end = line ? strchr(line, '\n') : NULL;
            if (end) {
                json_t *j = hr_jparse(hr_fmt("%.*s", (int)(end - line), line));
                cr_assert(j && json_is_object(json_object_get(j, "sites")), "bad line: %s", out);
                static fs_server_t pool[8];
                static unsigned npool;
                fs_server_t *fs = &pool[npool++ % 8];
                memset(fs, 0, sizeof *fs);
                fs->proc = p;
                fs->admin = (int)hr_jint(j, "admin", 0);
                fs->base = base;
                fs->sites = json_object_get(j, "sites");
                fs->nsites = (int)json_object_size(fs->sites);
                p->port = fs->admin;
                return fs; /* static: at most 8 servers at once per test */
            }
            if (lf_wait_exit(p, 0)) {
                if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 3) break; /* a port taken */
                cr_assert_fail("the form-sites server exited (status %d):\n%s", p->status, out);
            }
            cr_assert_lt(hr_now_ms(), deadline, "the form-sites server did not start:\n%s", out);
            hr_sleep_ms(20);
        }
    }
    cr_assert_fail("no free range of %d ports for the form-sites server", count + 1);
    return NULL;
}

/* The port of a site (fails the test when the server does not serve it). */
LF_FN int fs_port(const fs_server_t *fs, const char *name)
{
    json_t *p = json_object_get(fs->sites, name);
    cr_assert(json_is_integer(p), "the form-sites server does not serve %s", name);
    return (int)json_integer_value(p);
}

/* "http://127.0.0.1:<port><path>" of a site (path NULL: "/"). */
LF_FN const char *fs_url(const fs_server_t *fs, const char *name, const char *path)
{
    return hr_fmt("http://127.0.0.1:%d%s", fs_port(fs, name), path ? path : "/");
}

/* The sites' ports for ALLOWED_PRIVATE_TARGETS: "127.0.0.1:<first>-<last>" (not the admin's). */
LF_FN const char *fs_allow_list(const fs_server_t *fs)
{
    return hr_fmt("127.0.0.1:%d-%d", fs->base, fs->base + fs->nsites - 1);
}

LF_FN json_t *fs_admin_get(const fs_server_t *fs, const char *what, const char *site)
{
    const char *url =
        site ? hr_fmt("http://127.0.0.1:%d/admin/%s?site=%s", fs->admin, what, hr_urlenc(site))
             : hr_fmt("http://127.0.0.1:%d/admin/%s", fs->admin, what);
    hr_resp_t *r = hr_http("GET", url, NULL, NULL, 0);
    cr_assert_eq(r->status, 200, "GET /admin/%s: %s", what, hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_array(j), "GET /admin/%s: %s", what, hr_describe(r));
    return j;
}

/* Every submission a site received (site NULL: every site's), in order: objects {site, method,
 * path, content_type, fields: [[name, value]...], files, headers: {cookie, referer,
 * accept-language, user-agent, origin}, time, accepted, reason, errors, expected, problems}. */
LF_FN json_t *fs_posts(const fs_server_t *fs, const char *site)
{
    return fs_admin_get(fs, "posts", site);
}

/* Every request a site received (site NULL: all): objects {site, method, path, time (ms)}. */
LF_FN json_t *fs_requests(const fs_server_t *fs, const char *site)
{
    return fs_admin_get(fs, "requests", site);
}

/* Forgets the posts, requests, issued tokens and sessions. */
LF_FN void fs_reset(const fs_server_t *fs)
{
    hr_resp_t *r =
        hr_http("POST", hr_fmt("http://127.0.0.1:%d/admin/reset", fs->admin), NULL, "", 0);
    cr_assert_eq(r->status, 200, "POST /admin/reset: %s", hr_describe(r));
}

/* A sender member, the first and last names derived from "name" when absent. */
LF_FN const char *fs_sender_member(const json_t *sender, const char *m)
{
    const char *v = hr_jstr(sender, m);
    if (v) return v;
    const char *name = hr_jstr(sender, "name");
    if (!name) return NULL;
    const char *sp = strrchr(name, ' ');
    if (strcmp(m, "first_name") == 0) return sp ? hr_fmt("%.*s", (int)(sp - name), name) : name;
    if (strcmp(m, "last_name") == 0) return sp ? sp + 1 : "";
    return NULL;
}

/* Asserts that posted holds exactly the fields of expect (a manifest "fields" object: name ->
 * "$sender.<member>", "$message", "$subject", "$any" (any non-empty value: the server checks its
 * tokens itself), "" (empty), "$captcha" (a CAPTCHA's answer: absent or empty), "$captcha_token"
 * (a CAPTCHA's hidden field: absent or any value) or a literal), each once, and nothing else.
 * posted: [[name, value]...] as the server records them, or [{name, value, kind?}...] as the
 * worker's result lists them (a field of kind "captcha" the manifest does not name is ignored:
 * captcha_required results list every prefilled value). sender: NULL for fs_sender();
 * message: NULL accepts any non-empty "$message". */
LF_FN void fs_expect_fields(const json_t *expect, const json_t *posted, const json_t *sender,
                            const char *message)
{
    if (!sender) sender = fs_sender();
    cr_assert(json_is_object(expect) && json_is_array(posted), "fs_expect_fields: %s / %s",
              hr_jdump(expect), hr_jdump(posted));
    size_t n = json_array_size(posted);
    const char **names = calloc(n + 1, sizeof *names), **values = calloc(n + 1, sizeof *values);
    char *used = calloc(n + 1, 1);
    cr_assert(names && values && used);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(posted, i);
        if (json_is_array(e)) {
            names[i] = json_string_value(json_array_get(e, 0));
            values[i] = json_string_value(json_array_get(e, 1));
        } else {
            const char *kind = hr_jstr(e, "kind");
            names[i] = hr_jstr(e, "name");
            values[i] = hr_jstr(e, "value");
            /* a CAPTCHA field the manifest does not name is the worker's own business */
            if (kind && strcmp(kind, "captcha") == 0 && names[i] &&
                !json_object_get(expect, names[i]))
                used[i] = 1;
        }
        if (!values[i]) values[i] = "";
        cr_assert(names[i], "a posted field without a name: %s", hr_jdump(e));
    }
    pa_buf_t pb = PA_BUF_INIT;
    const char *name;
    json_t *specj;
    json_object_foreach((json_t *)expect, name, specj) {
        const char *spec = json_string_value(specj);
        cr_assert(spec, "a value spec is not a string: %s", hr_jdump(expect));
        size_t count = 0, at = 0;
        for (size_t i = 0; i < n; i++)
            if (!used[i] && names[i] && strcmp(names[i], name) == 0) {
                if (count++ == 0) at = i;
                used[i] = 1;
            }
        if (strcmp(spec, "$captcha_token") == 0) {
            if (count > 1) pa_buf_printf(&pb, "\n  %s: posted %zu times", name, count);
            continue;
        }
        if (strcmp(spec, "$captcha") == 0) {
            if (count > 1 || (count == 1 && values[at][0]))
                pa_buf_printf(&pb, "\n  %s: a CAPTCHA field must be absent or empty", name);
            continue;
        }
        if (count != 1) {
            pa_buf_printf(&pb, "\n  %s: expected once, posted %zu times", name, count);
            continue;
        }
        const char *v = values[at], *want = NULL;
        int good;
        if (strcmp(spec, "$any") == 0) good = v[0] != '\0';
        else if (strcmp(spec, "$message") == 0)
            good = message ? strcmp(v, message) == 0 : v[0] != 0;
        else {
            if (strcmp(spec, "$subject") == 0) want = FS_SUBJECT;
            else if (strncmp(spec, "$sender.", 8) == 0) want = fs_sender_member(sender, spec + 8);
            else want = spec;
            good = want && strcmp(v, want) == 0;
        }
        if (!good)
            pa_buf_printf(&pb, "\n  %s: expected %s%s%s, got \"%s\"", name, spec[0] ? spec : "\"\"",
                          want && want != spec ? " = " : "", want && want != spec ? want : "", v);
    }
    for (size_t i = 0; i < n; i++)
        if (!used[i]) pa_buf_printf(&pb, "\n  %s: not expected (\"%s\")", names[i], values[i]);
    const char *problems = pb.len ? hr_fmt("%s", pb.data) : NULL;
    pa_buf_free(&pb);
    free(names);
    free(values);
    free(used);
    cr_assert(!problems, "the posted fields are not the expected ones:%s\nexpected %s\nposted %s",
              problems, hr_jdump(expect), hr_jdump(posted));
}

/* Asserts a worker's result_submit matches a manifest entry: the outcome, and the reason, embed
 * and CAPTCHA kind when the manifest names them. */
LF_FN void fs_expect_result(const json_t *site, const json_t *result)
{
    json_t *ex = json_object_get(site, "expect");
    const char *what = hr_fmt("%s: %s", hr_jstr(site, "name"), hr_jdump(result));
    cr_assert(json_is_object(result), "no result: %s", what);
    cr_assert_str_eq(hr_jstr(result, "outcome") ? hr_jstr(result, "outcome") : "(none)",
                     hr_jstr(ex, "outcome"), "outcome: %s", what);
    if (hr_jstr(ex, "reason"))
        cr_assert_str_eq(hr_jstr(result, "reason") ? hr_jstr(result, "reason") : "(none)",
                         hr_jstr(ex, "reason"), "reason: %s", what);
    if (hr_jstr(ex, "embed"))
        cr_assert_str_eq(hr_jstr(result, "embed") ? hr_jstr(result, "embed") : "(none)",
                         hr_jstr(ex, "embed"), "embed: %s", what);
    if (hr_jstr(ex, "captcha")) {
        const char *k = hr_jstr(json_object_get(result, "captcha"), "kind");
        cr_assert_str_eq(k ? k : "(none)", hr_jstr(ex, "captcha"), "captcha kind: %s", what);
    }
}

/* Asserts a site received exactly the posts its manifest entry expects ("posts": 0 or 1), each
 * at the expected method and path with exactly the expected fields (fs_expect_fields), and, for
 * the manifest's "cookies", that those cookies came back. */
LF_FN void fs_expect_posts(const fs_server_t *fs, const json_t *site, const json_t *sender,
                           const char *message)
{
    const char *name = hr_jstr(site, "name");
    json_t *ex = json_object_get(site, "expect");
    json_t *posts = fs_posts(fs, name);
    long long want = hr_jint(ex, "posts", 0);
    cr_assert_eq((long long)json_array_size(posts), want, "%s: %lld post(s) expected: %s", name,
                 want, hr_jdump(posts));
    size_t i;
    json_t *p;
    json_array_foreach(posts, i, p) {
        json_t *form = json_object_get(ex, "form");
        if (form) {
            cr_assert_str_eq(hr_jstr(p, "method"), hr_jstr(form, "method"), "%s: %s", name,
                             hr_jdump(p));
            cr_assert_str_eq(hr_jstr(p, "path"), hr_jstr(form, "action"), "%s: %s", name,
                             hr_jdump(p));
        }
        fs_expect_fields(json_object_get(ex, "fields"), json_object_get(p, "fields"), sender,
                         message);
        size_t k;
        json_t *c;
        const char *cookie = hr_jstr(json_object_get(p, "headers"), "cookie");
        json_array_foreach(json_object_get(ex, "cookies"), k, c) {
            const char *cn = json_string_value(c);
            cr_assert(cookie && strstr(cookie, hr_fmt("%s=", cn)),
                      "%s: the %s cookie did not "
                      "come back: %s",
                      name, cn, hr_jdump(p));
        }
    }
}

#endif
