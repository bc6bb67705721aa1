/* A Redis with a password (so that ACL users can be made) and the ACL users documented in
 * docs/redis-keys.md, for tests that run the daemons as their own users: what the docs promise
 * each daemon may do is what the test exercises. Header-only, on top of harness.h. */
#ifndef PA_TESTS_ACL_FIXTURE_H
#define PA_TESTS_ACL_FIXTURE_H

#include <criterion/criterion.h>
#include <hiredis/sds.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pa_redis.h"

#define AF_ADMIN_PW "adm1n-pw-for-tests"
#define AF_FN static __attribute__((unused))

/* A Redis whose default user has AF_ADMIN_PW (hr_redis_url gives it). */
AF_FN hr_redis_t *af_redis_start(void)
{
    hr_redis_opts_t o = {.password = AF_ADMIN_PW};
    return hr_redis_start(&o);
}

/* A connection as the default (administrator) user; the caller destroys it. */
AF_FN pa_redis_t *af_admin(hr_redis_t *rd)
{
    char err[256] = "";
    pa_redis_t *r = pa_redis_new(hr_redis_url(rd, 0), 3000, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    return r;
}

/* Runs the documented `ACL SETUSER <user> reset ...` line with password in place of its
 * placeholder (capitals). */
AF_FN void af_acl_from_docs(pa_redis_t *a, const char *user, const char *password)
{
    const char *doc = hr_read_file(PA_SOURCE_DIR "/docs/redis-keys.md");
    const char *want = hr_fmt("ACL SETUSER %s reset ", user);
    const char *line = strstr(doc, want);
    cr_assert_not_null(line, "docs/redis-keys.md has no '%s' line", want);
    size_t len = strcspn(line, "\n");
    int argc = 0;
    sds *argv = sdssplitargs(hr_fmt("%.*s", (int)len, line), &argc);
    cr_assert_not_null(argv);
    const char **av = calloc((size_t)argc, sizeof *av);
    cr_assert_not_null(av);
    for (int i = 0; i < argc; i++) {
        av[i] = argv[i];
        if (argv[i][0] == '>' && strspn(argv[i] + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") > 3)
            av[i] = hr_fmt(">%s", password);
    }
    redisReply *rep = pa_redis_argv(a, argc, av, NULL);
    free(av);
    sdsfreesplitres(argv, argc);
    cr_assert_not_null(rep, "%s", pa_redis_errstr(a));
    cr_assert_eq(rep->type, REDIS_REPLY_STATUS, "ACL SETUSER %s: %s", user,
                 rep->str ? rep->str : "?");
    freeReplyObject(rep);
}

/* redis://<user>:<password>@127.0.0.1:<port>/0 */
AF_FN const char *af_user_url(hr_redis_t *rd, const char *user, const char *password)
{
    return hr_fmt("redis://%s:%s@127.0.0.1:%d/0", user, password, hr_redis_port(rd));
}

/* A command given as a printf format, split as redis-cli splits a line (sdssplitargs: quote an
 * argument holding blanks); the reply is the caller's, asserted to have come. */
AF_FN redisReply *af_vcmd(pa_redis_t *c, const char *fmt, va_list ap)
{
    sds line = sdscatvprintf(sdsempty(), fmt, ap);
    int argc = 0;
    sds *argv = sdssplitargs(line, &argc);
    cr_assert_not_null(argv, "cannot split '%s'", line);
    redisReply *r = pa_redis_argv(c, argc, (const char **)argv, NULL);
    sdsfreesplitres(argv, argc);
    cr_assert_not_null(r, "%s: %s", line, pa_redis_errstr(c));
    sdsfree(line);
    return r;
}

AF_FN redisReply *af_cmd(pa_redis_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
AF_FN redisReply *af_cmd(pa_redis_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = af_vcmd(c, fmt, ap);
    va_end(ap);
    return r;
}

/* An integer (or a string holding one) from a command; -1 for nil; an error fails the test. */
AF_FN long long af_int(pa_redis_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
AF_FN long long af_int(pa_redis_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = af_vcmd(c, fmt, ap);
    va_end(ap);
    cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
    long long v = r->type == REDIS_REPLY_INTEGER  ? r->integer
                  : r->type == REDIS_REPLY_STRING ? atoll(r->str)
                                                  : -1;
    freeReplyObject(r);
    return v;
}

/* A string (harness-owned) from a command; NULL for nil; an error fails the test. */
AF_FN const char *af_str(pa_redis_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
AF_FN const char *af_str(pa_redis_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = af_vcmd(c, fmt, ap);
    va_end(ap);
    cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
    const char *v = r->type == REDIS_REPLY_STRING ? hr_fmt("%s", r->str) : NULL;
    freeReplyObject(r);
    return v;
}

/* 1 when the command is refused by the ACL (NOPERM). */
AF_FN int af_noperm(pa_redis_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
AF_FN int af_noperm(pa_redis_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = af_vcmd(c, fmt, ap);
    va_end(ap);
    int no = r->type == REDIS_REPLY_ERROR && strstr(r->str, "NOPERM");
    freeReplyObject(r);
    return no;
}

#endif
