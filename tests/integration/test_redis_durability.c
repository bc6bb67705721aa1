/* REDIS_DURABILITY=strict against real redis-servers and gateways: the gateway refuses to start on
 * a Redis that does not put each write on disk before answering; with appendfsync always it
 * answers writes (and they survive a Redis crash); once appendfsync is turned down at run time it
 * answers them 503 not-durable; and on the WAITAOF path (a stub WAITAOF module, since Debian's
 * Redis 7.0 has none) it asks WAITAOF after each write and answers 503 when the fsync is not
 * confirmed. Default mode: as before, health says so. */
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>

#include "harness.h"

#ifndef PA_WAITAOF_STUB
#error "PA_WAITAOF_STUB must be defined (tests/CMakeLists.txt does)"
#endif

TestSuite(durability, .fini = hr_cleanup, .timeout = 60);

static redisReply *admin(hr_redis_t *rd, const char *fmt, ...)
{
    redisContext *c = redisConnect("127.0.0.1", hr_redis_port(rd));
    cr_assert(c && !c->err, "admin connection");
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    cr_assert_not_null(rep);
    return rep;
}

static long long admin_int(hr_redis_t *rd, const char *fmt, const char *a1, const char *a2)
{
    redisReply *rep = admin(rd, fmt, a1, a2);
    cr_assert_eq(rep->type, REDIS_REPLY_INTEGER, "%s: %s", fmt, rep->str ? rep->str : "");
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

static const char *prospect(int i)
{
    return hr_fmt("{\"name\":\"P %d\",\"company\":\"C\",\"status\":\"new\","
                  "\"email\":\"p%d@example.com\"}",
                  i, i);
}

static json_t *durability_of(hr_gateway_t *gw, long *status)
{
    hr_resp_t *r = hr_get(gw, "/api/health");
    *status = r->status;
    json_t *d = json_object_get(hr_json(r), "durability");
    cr_assert_not_null(d, "health shows no durability: %s", hr_describe(r));
    return d;
}

Test(durability, strict_refuses_to_start_on_a_redis_that_does_not_fsync_each_write)
{
    /* everysec (and AOF off): a 202 could be lost with the host */
    hr_redis_opts_t o = {.appendonly = 1};
    hr_redis_t *rd = hr_redis_start(&o);
    hr_gateway_t *g = hr_gateway_spawn(rd, (const char *[]){"REDIS_DURABILITY=strict", NULL});
    cr_assert(hr_gateway_wait_exit(g, 10000), "the gateway started on appendfsync everysec");
    cr_assert(WIFEXITED(g->status) && WEXITSTATUS(g->status) == 2, "exit status 0x%x", g->status);
    const char *out = hr_gateway_output(g);
    cr_assert(strstr(out, "REDIS_DURABILITY=strict") && strstr(out, "appendfsync everysec") &&
                  strstr(out, "appendfsync always"),
              "the message does not say why:\n%s", out);
    hr_redis_t *off = hr_redis_start(NULL);
    g = hr_gateway_spawn(off, (const char *[]){"REDIS_DURABILITY=strict", NULL});
    cr_assert(hr_gateway_wait_exit(g, 10000), "the gateway started with the AOF off");
    cr_assert(strstr(hr_gateway_output(g), "appendonly no"), "%s", hr_gateway_output(g));
    /* a bad value is refused too; the default is as before */
    g = hr_gateway_spawn(off, (const char *[]){"REDIS_DURABILITY=paranoid", NULL});
    cr_assert(hr_gateway_wait_exit(g, 10000));
    cr_assert(strstr(hr_gateway_output(g), "REDIS_DURABILITY"), "%s", hr_gateway_output(g));
    g = hr_gateway_start(off, NULL);
    long st;
    json_t *d = durability_of(g, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(hr_jstr(d, "mode"), "default");
    cr_assert_eq(hr_post(g, "/api/prospects", prospect(1))->status, 201);
}

Test(durability, appendfsync_always_writes_survive_a_crash_and_a_downgrade_is_refused)
{
    hr_redis_opts_t o = {.appendonly = 1, .extra = {"--appendfsync", "always"}};
    hr_redis_t *rd = hr_redis_start(&o);
    hr_gateway_t *g = hr_gateway_start(rd, (const char *[]){"REDIS_DURABILITY=strict", NULL});
    long st;
    json_t *d = durability_of(g, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(hr_jstr(d, "mode"), "strict");
    cr_assert_str_eq(hr_jstr(d, "method"), "appendfsync-always");
    cr_assert(json_is_true(json_object_get(d, "ok")));
    hr_resp_t *r = hr_post(g, "/api/prospects", prospect(1));
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
    const char *id = hr_jstr(hr_json(r), "id");
    /* Redis crashes right after the answer: the write is in the AOF it replays */
    hr_redis_kill(rd);
    hr_redis_restart(rd);
    uint64_t t0 = hr_now_ms();
    while (admin_int(rd, "EXISTS pa:prospect:%s", id, NULL) == 0 && hr_now_ms() - t0 < 1000)
        hr_sleep_ms(20);
    cr_assert_eq(admin_int(rd, "EXISTS pa:prospect:%s", id, NULL), 1, "the 201 was lost");
    /* the gateway's connections come back */
    t0 = hr_now_ms();
    do {
        hr_sleep_ms(100);
        r = hr_post(g, "/api/prospects", prospect((int)(hr_now_ms() % 100000) + 300000));
    } while (r->status != 201 && hr_now_ms() - t0 < 5000);
    cr_assert_eq(r->status, 201, "after the restart: %s", hr_describe(r));
    /* someone turns the fsync down at run time: noticed within ~2 s, then writes are refused */
    freeReplyObject(admin(rd, "CONFIG SET appendfsync everysec"));
    t0 = hr_now_ms();
    do {
        hr_sleep_ms(200);
        r = hr_post(g, "/api/prospects", prospect((int)(hr_now_ms() % 100000) + 10));
    } while ((r->status == 201 || strstr(r->body, "/unavailable")) && hr_now_ms() - t0 < 5000);
    hr_assert_problem(r, 503, "not-durable", NULL);
    cr_assert_not_null(hr_header(r, "Retry-After"));
    d = durability_of(g, &st);
    cr_assert_eq(st, 503);
    cr_assert(json_is_false(json_object_get(d, "ok")));
    /* and back */
    freeReplyObject(admin(rd, "CONFIG SET appendfsync always"));
    t0 = hr_now_ms();
    do {
        hr_sleep_ms(200);
        r = hr_post(g, "/api/prospects", prospect((int)(hr_now_ms() % 100000) + 200000));
    } while (r->status != 201 && hr_now_ms() - t0 < 5000);
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
}

Test(durability, waitaof_is_asked_after_each_write_when_redis_has_it)
{
    hr_redis_opts_t o = {.appendonly = 1, .extra = {"--loadmodule", PA_WAITAOF_STUB}};
    hr_redis_t *rd = hr_redis_start(&o);
    hr_gateway_t *g = hr_gateway_start(
        rd, (const char *[]){"REDIS_DURABILITY=strict", "REDIS_TIMEOUT_MS=2500", NULL});
    long st;
    json_t *d = durability_of(g, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(hr_jstr(d, "method"), "waitaof");
    long long before = admin_int(rd, "PASTUB.WAITAOF %s %s", "1", "2500");
    hr_resp_t *r = hr_post(g, "/api/prospects", prospect(1));
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
    /* a read asks nothing */
    cr_assert_eq(hr_get(g, "/api/prospects")->status, 200);
    long long after = admin_int(rd, "PASTUB.WAITAOF %s %s", "0", "2500");
    cr_assert_eq(after, before + 1, "WAITAOF asked %lld times for one write", after - before);
    /* the fsync is not confirmed: the write is answered 503, not 201 */
    r = hr_post(g, "/api/prospects", prospect(2));
    hr_assert_problem(r, 503, "not-durable", NULL);
    cr_assert_not_null(strstr(hr_jstr(hr_json(r), "detail"), "WAITAOF"), "%s", hr_describe(r));
}

/* Runs the line of docs/redis-keys.md that starts with `start` (and holds `holds`), the password
 * placeholder replaced. */
static void acl_doc_line(hr_redis_t *rd, const char *start, const char *holds, const char *pw)
{
    const char *doc = hr_read_file(PA_SOURCE_DIR "/docs/redis-keys.md");
    const char *line = doc;
    size_t len = 0;
    while ((line = strstr(line, start))) {
        len = strcspn(line, "\n");
        const char *h = strstr(line, holds);
        if (h && h < line + len) break;
        line += len;
    }
    cr_assert_not_null(line, "docs/redis-keys.md has no line '%s...%s'", start, holds);
    int argc = 0;
    sds *argv = sdssplitargs(hr_fmt("%.*s", (int)len, line), &argc);
    cr_assert_not_null(argv);
    const char *av[128];
    cr_assert_lt(argc, 128);
    for (int i = 0; i < argc; i++)
        av[i] = argv[i][0] == '>' && strspn(argv[i] + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") > 3
                    ? hr_fmt(">%s", pw)
                    : argv[i];
    redisContext *c = redisConnect("127.0.0.1", hr_redis_port(rd));
    cr_assert(c && !c->err);
    redisReply *rep = redisCommandArgv(c, argc, av, NULL);
    sdsfreesplitres(argv, argc);
    cr_assert(rep && rep->type == REDIS_REPLY_STATUS, "%s: %s", start,
              rep && rep->str ? rep->str : "?");
    freeReplyObject(rep);
    redisFree(c);
}

Test(durability, the_gateways_documented_acl_user_needs_the_documented_extra_line_for_strict)
{
    hr_redis_opts_t o = {.appendonly = 1, .extra = {"--appendfsync", "always"}};
    hr_redis_t *rd = hr_redis_start(&o);
    acl_doc_line(rd, "ACL SETUSER pa-gateway reset ", "~pa:*", "gw-pw-3");
    const char *url =
        hr_fmt("REDIS_URL=redis://pa-gateway:gw-pw-3@127.0.0.1:%d/0", hr_redis_port(rd));
    /* without it, the check is refused by Redis: the gateway says what the user needs */
    hr_gateway_t *g = hr_gateway_spawn(rd, (const char *[]){url, "REDIS_DURABILITY=strict", NULL});
    cr_assert(hr_gateway_wait_exit(g, 10000), "started without being able to check");
    cr_assert_not_null(strstr(hr_gateway_output(g), "+config|get"), "%s", hr_gateway_output(g));
    /* with the documented line (Redis 7.0: the CONFIG GET one) it starts and answers writes */
    acl_doc_line(rd, "ACL SETUSER pa-gateway +", "+config|get", NULL);
    g = hr_gateway_start(rd, (const char *[]){url, "REDIS_DURABILITY=strict", NULL});
    long st;
    json_t *d = durability_of(g, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(hr_jstr(d, "method"), "appendfsync-always");
    hr_resp_t *r = hr_post(g, "/api/prospects", prospect(1));
    cr_assert_eq(r->status, 201, "%s", hr_describe(r));
}
