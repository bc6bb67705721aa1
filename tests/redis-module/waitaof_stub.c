/* A Redis module for tests: a WAITAOF command for Redis 7.0, which has none (WAITAOF came with
 * 7.2), so that the gateway's WAITAOF path (REDIS_DURABILITY=strict) runs against a real
 * redis-server. It does not fsync anything: it answers [numlocal, 0] with the numlocal the test
 * sets, and counts the calls by their timeout argument.
 *
 *   WAITAOF numlocal numreplicas timeout   -> [answer, 0]
 *   PASTUB.WAITAOF answer timeout          -> sets the numlocal WAITAOF answers; returns how
 *                                             many WAITAOF calls had that timeout so far
 *
 * Written against the module API's stable entry point (RedisModule_GetApi, the first word of the
 * context) so that no redismodule.h is needed. */
#include <stdlib.h>
#include <string.h>

typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleString RedisModuleString;
typedef int (*cmd_fn)(RedisModuleCtx *, RedisModuleString **, int);

static int (*GetApi)(const char *, void *);
static void (*SetModuleAttribs)(RedisModuleCtx *, const char *, int, int);
static int (*CreateCommand)(RedisModuleCtx *, const char *, cmd_fn, const char *, int, int, int);
static int (*ReplyWithArray)(RedisModuleCtx *, long);
static int (*ReplyWithLongLong)(RedisModuleCtx *, long long);
static int (*ReplyWithError)(RedisModuleCtx *, const char *);
static int (*StringToLongLong)(const RedisModuleString *, long long *);

static long long answer = 1;
static struct {
    long long timeout, calls;
} seen[64];

static int waitaof(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
    long long t = -1;
    if (argc != 4 || StringToLongLong(argv[3], &t) != 0)
        return ReplyWithError(ctx, "ERR wrong number of arguments for 'waitaof' command");
    for (int i = 0; i < 64; i++)
        if (seen[i].timeout == t || seen[i].calls == 0) {
            seen[i].timeout = t;
            seen[i].calls++;
            break;
        }
    ReplyWithArray(ctx, 2);
    ReplyWithLongLong(ctx, answer);
    ReplyWithLongLong(ctx, 0);
    return 0;
}

static int control(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
    long long a, t;
    if (argc != 3 || StringToLongLong(argv[1], &a) != 0 || StringToLongLong(argv[2], &t) != 0)
        return ReplyWithError(ctx, "ERR usage: PASTUB.WAITAOF answer timeout");
    answer = a;
    long long n = 0;
    for (int i = 0; i < 64; i++)
        if (seen[i].calls && seen[i].timeout == t) n = seen[i].calls;
    return ReplyWithLongLong(ctx, n);
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
    (void)argv, (void)argc;
    GetApi = (int (*)(const char *, void *))(unsigned long)((void **)ctx)[0];
    if (GetApi("RedisModule_SetModuleAttribs", (void *)&SetModuleAttribs) ||
        GetApi("RedisModule_CreateCommand", (void *)&CreateCommand) ||
        GetApi("RedisModule_ReplyWithArray", (void *)&ReplyWithArray) ||
        GetApi("RedisModule_ReplyWithLongLong", (void *)&ReplyWithLongLong) ||
        GetApi("RedisModule_ReplyWithError", (void *)&ReplyWithError) ||
        GetApi("RedisModule_StringToLongLong", (void *)&StringToLongLong))
        return 1;
    SetModuleAttribs(ctx, "pastub", 1, 1);
    if (CreateCommand(ctx, "waitaof", waitaof, "fast", 0, 0, 0) ||
        CreateCommand(ctx, "pastub.waitaof", control, "fast", 0, 0, 0))
        return 1;
    return 0;
}
