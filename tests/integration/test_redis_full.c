/* A Redis out of memory (maxmemory with noeviction, as docs/architecture.md asks for): writes
 * answer 503 saying so (not "unreachable"), nothing is half-written, and they succeed again once
 * memory is freed. Real redis-server and gateway. */
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <string.h>

#include "harness.h"

TestSuite(redis_full, .fini = hr_cleanup, .timeout = 40);

static void admin(hr_redis_t *rd, const char *cmd)
{
    redisContext *c = redisConnect("127.0.0.1", hr_redis_port(rd));
    cr_assert(c && !c->err, "admin connection");
    redisReply *rep = redisCommand(c, cmd);
    cr_assert(rep && rep->type != REDIS_REPLY_ERROR, "%s: %s", cmd, rep ? rep->str : c->errstr);
    freeReplyObject(rep);
    redisFree(c);
}

Test(redis_full, writes_say_redis_is_out_of_memory_and_work_once_it_has_room)
{
    hr_redis_opts_t o = {.extra = {"--maxmemory", "8mb", "--maxmemory-policy", "noeviction",
                                   "--enable-debug-command", "local", NULL}};
    hr_redis_t *rd = hr_redis_start(&o);
    hr_gateway_t *gw = hr_gateway_start(rd, NULL);
    /* fill it: one big value, past maxmemory (a write over the limit is refused after this) */
    admin(rd, "DEBUG POPULATE 80000 filler 100");
    const char *body = "{\"name\":\"Ada\",\"company\":\"Analytical\",\"email\":\"ada@ae.example\"}";
    hr_resp_t *r = hr_post(gw, "/api/prospects", body);
    hr_assert_problem(r, 503, "unavailable", NULL);
    const char *d = hr_jstr(hr_json(r), "detail");
    cr_assert(d && strstr(d, "out of memory"), "%s", r->body);
    cr_expect_str_eq(hr_header(r, "Retry-After"), "1");
    /* nothing of it was written */
    hr_resp_t *l = hr_get(gw, "/api/prospects?search=ada");
    cr_expect_str_eq(hr_header(l, "X-Total-Count"), "0", "%s", l->body);
    /* room again: the same write succeeds */
    admin(rd, "FLUSHDB");
    hr_resp_t *ok = hr_post(gw, "/api/prospects", body);
    cr_expect_eq(ok->status, 201, "%s", hr_describe(ok));
}
