/* POST /api/llm/generate through the real llm-worker and a provider speaking the OpenAI or
 * Anthropic wire format (tests/llm-server/server.mjs): the model's answer on the open request,
 * a transient fault retried by the job engine, a permanent one (an exhausted quota too) as 502
 * with its message.
 * Skipped when node is not installed. */
#include <criterion/criterion.h>

#include "../llm-server/llm_fixture.h"

TestSuite(llm_generate, .fini = lf_cleanup, .timeout = 120);

static void scenario(const char *provider)
{
    lf_proc_t *srv = lf_llm_server((const char *[]){"LLM_SERVER_KEY=" LF_KEY, NULL});
    hr_redis_t *rd = hr_redis_start(NULL);
    hr_gateway_t *gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_provider_worker(rd, gw, srv, provider, NULL, NULL);
    lf_wait_worker(gw);

    hr_resp_t *r = hr_post(gw, "/api/llm/generate",
                           "{\"prompt\":\"Say hello to Ada\",\"params\":{\"temperature\":0}}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(strlen(hr_jstr(j, "output")) > 0, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(j, "provider"), provider);
    /* the model that answered, as the provider names it (the test server adds a date) */
    cr_assert(!strncmp(hr_jstr(j, "model"), LF_MODEL, strlen(LF_MODEL)), "%s", hr_describe(r));
    cr_assert_gt(hr_jint(json_object_get(j, "usage"), "prompt_tokens", 0), 0, "%s", hr_describe(r));

    /* one 503 from the provider: the job engine retries, the caller still gets the answer */
    r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"llmfault=503;times=1 hello\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_eq(json_array_size(lf_records_for(lf_server_requests(srv), "503;times=1")), 2,
                 "expected a failed try and a retry");

    /* a permanent refusal: 502 naming the provider's message */
    r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"llmfault=400 hello\"}");
    hr_assert_problem(r, 502, "llm-failed", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), provider), "%s", hr_describe(r));

    /* the account's quota or credit exhausted (openai: a 429): 502 at once, asked once */
    r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"llmfault=quota;id=g hello\"}");
    hr_assert_problem(r, 502, "llm-failed", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "quota or credit is exhausted"), "%s",
              hr_describe(r));
    cr_assert_eq(json_array_size(lf_records_for(lf_server_requests(srv), "quota;id=g")), 1,
                 "an exhausted quota is not retried");
    lf_finish();
}

Test(llm_generate, openai)
{
    scenario("openai");
}

Test(llm_generate, anthropic)
{
    scenario("anthropic");
}
