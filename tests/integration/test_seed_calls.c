/* The seed's calls exactly as the seed (shared design brief, section 5) writes them, through the
 * real gateway, Redis and prospect-llm-worker with its default (template) provider:
 *   POST /api/llm/generate {prompt, params?}                    -> 200 {output, provider: template}
 *   POST /api/automation/contact-forms/run
 *        {campaign_id?, message_template, targets[]}             -> 202 {job_id, status: queued}
 * A run without a sender takes the campaign's stored sender, else the configured default
 * (SENDER_*); only when neither exists is it a 400 that says what to set. */
#include <criterion/criterion.h>
#include <string.h>

#include "../llm-server/llm_fixture.h"
#include "pa_redis.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(seed_calls, .fini = lf_cleanup, .timeout = 60);

static void start(const char *const *env)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, env);
}

/* The job's stored context (job_ctx: template, sender, options) as JSON (harness-owned). */
static json_t *job_ctx(const char *jid)
{
    char err[256];
    pa_redis_t *c = pa_redis_new(hr_redis_url(rd, 0), 2000, err, sizeof err);
    cr_assert(c, "%s", err);
    redisReply *r = pa_redis_cmd(c, "HGET pa:job:%s ctx", jid);
    cr_assert(r && r->type == REDIS_REPLY_STRING, "job %s has no ctx", jid);
    json_t *j = hr_jkeep(json_loads(r->str, 0, NULL));
    freeReplyObject(r);
    pa_redis_destroy(&c);
    return j;
}

Test(seed_calls, the_seeds_generate_call_answers_with_the_template_provider)
{
    start((const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_llm_worker(rd, gw, NULL); /* LLM_PROVIDER unset: the template provider */
    lf_wait_worker(gw);
    hr_resp_t *r =
        hr_post(gw, "/api/llm/generate",
                "{\"prompt\":\"Write a two-line intro to Acme\",\"params\":{\"temperature\":0}}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert_str_eq(hr_jstr(j, "output"), "Write a two-line intro to Acme");
    cr_assert_str_eq(hr_jstr(j, "provider"), "template");
    /* the seed's minimal form: no params */
    r = hr_post(gw, "/api/llm/generate", "{\"prompt\":\"Hello\"}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "output"), "Hello");
    lf_finish();
}

Test(seed_calls, generate_renders_the_prompt_with_its_variables)
{
    start((const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_llm_worker(rd, gw, NULL);
    lf_wait_worker(gw);
    hr_resp_t *r = hr_post(gw, "/api/llm/generate",
                           "{\"prompt\":\"Hi {{name}}, about {{company|your company}}.\","
                           "\"variables\":{\"name\":\"Ada\"},\"params\":{\"max_tokens\":50}}");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "output"), "Hi Ada, about your company.");
    cr_assert_str_eq(hr_jstr(hr_json(r), "provider"), "template");
    /* variables are checked like a target's */
    hr_assert_problem(hr_post(gw, "/api/llm/generate", "{\"prompt\":\"x\",\"variables\":[1]}"), 400,
                      "invalid-field", "variables");
    lf_finish();
}

Test(seed_calls, the_seeds_run_without_sender_takes_the_configured_default)
{
    start((const char *[]){"SENDER_NAME=Sam Seller", "SENDER_EMAIL=sam@seller.example",
                           "SENDER_COMPANY=Seller Ltd", NULL});
    hr_resp_t *r = hr_post(gw, LF_RUN,
                           "{\"message_template\":\"Hi {{company}}\",\"targets\":[\"acme.example\","
                           "\"https://globex.example/contact\"]}");
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert_str_eq(hr_jstr(j, "status"), "queued");
    cr_assert_eq(hr_jint(j, "total", -1), 2);
    json_t *sender = json_object_get(job_ctx(hr_jstr(j, "job_id")), "sender");
    cr_assert_str_eq(hr_jstr(sender, "name"), "Sam Seller", "%s", hr_jdump(sender));
    cr_assert_str_eq(hr_jstr(sender, "email"), "sam@seller.example");
    cr_assert_str_eq(hr_jstr(sender, "company"), "Seller Ltd");
}

Test(seed_calls, the_seeds_run_with_campaign_id_takes_the_campaigns_sender)
{
    start((const char *[]){"SENDER_NAME=Default", "SENDER_EMAIL=default@seller.example", NULL});
    json_t *c = hr_must_create(gw, "/api/campaigns",
                               "{\"id\":\"c-seed\",\"name\":\"Seed\",\"sender\":{\"name\":\"Cam "
                               "Paign\",\"email\":\"cam@paign.example\",\"title\":\"CEO\"}}");
    cr_assert_str_eq(hr_jstr(json_object_get(c, "sender"), "name"), "Cam Paign");
    /* GET shows the stored sender */
    json_t *got = hr_json(hr_get(gw, "/api/campaigns/c-seed"));
    cr_assert_str_eq(hr_jstr(json_object_get(got, "sender"), "title"), "CEO", "%s", hr_jdump(got));
    hr_resp_t *r = hr_post(gw, LF_RUN,
                           "{\"campaign_id\":\"c-seed\",\"message_template\":\"Hi\","
                           "\"targets\":[\"acme.example\"]}");
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(hr_json(r), "status"), "queued");
    json_t *sender = json_object_get(job_ctx(hr_jstr(hr_json(r), "job_id")), "sender");
    cr_assert_str_eq(hr_jstr(sender, "email"), "cam@paign.example", "%s", hr_jdump(sender));
    /* a sender in the body wins over the campaign's */
    r = hr_post(
        gw, LF_RUN,
        "{\"campaign_id\":\"c-seed\",\"message_template\":\"Hi\",\"targets\":[\"a.example\"],"
        "\"sender\":{\"name\":\"Body\",\"email\":\"body@x.example\"}}");
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    sender = json_object_get(job_ctx(hr_jstr(hr_json(r), "job_id")), "sender");
    cr_assert_str_eq(hr_jstr(sender, "name"), "Body");
    /* a campaign without a sender falls back to the configured default */
    hr_must_create(gw, "/api/campaigns", "{\"id\":\"c-plain\",\"name\":\"Plain\"}");
    r = hr_post(
        gw, LF_RUN,
        "{\"campaign_id\":\"c-plain\",\"message_template\":\"Hi\",\"targets\":[\"a.example\"]}");
    cr_assert_eq(r->status, 202, "%s", hr_describe(r));
    sender = json_object_get(job_ctx(hr_jstr(hr_json(r), "job_id")), "sender");
    cr_assert_str_eq(hr_jstr(sender, "name"), "Default");
}

Test(seed_calls, a_run_with_no_sender_anywhere_is_400_saying_what_to_set)
{
    start(NULL);
    hr_must_create(gw, "/api/campaigns", "{\"id\":\"c-none\",\"name\":\"No sender\"}");
    const char *bodies[] = {
        "{\"message_template\":\"Hi\",\"targets\":[\"acme.example\"]}",
        "{\"campaign_id\":\"c-none\",\"message_template\":\"Hi\",\"targets\":[\"acme.example\"]}",
    };
    for (size_t i = 0; i < 2; i++) {
        hr_resp_t *r = hr_post(gw, LF_RUN, bodies[i]);
        hr_assert_problem(r, 400, "invalid-field", "sender");
        const char *d = hr_jstr(hr_json(r), "detail");
        cr_assert(strstr(d, "SENDER_NAME") && strstr(d, "SENDER_EMAIL") && strstr(d, "campaign"),
                  "the problem does not say what to set: %s", d);
    }
    cr_assert_eq(json_array_size(hr_json(hr_get(gw, "/api/jobs"))), 0);
}

Test(seed_calls, a_campaigns_sender_is_validated_like_a_runs)
{
    start(NULL);
    hr_assert_problem(hr_post(gw, "/api/campaigns",
                              "{\"name\":\"X\",\"sender\":{\"name\":\"S\",\"email\":\"nope\"}}"),
                      400, "invalid-field", "sender.email");
    hr_assert_problem(
        hr_post(gw, "/api/campaigns", "{\"name\":\"X\",\"sender\":{\"email\":\"s@x.example\"}}"),
        400, "invalid-field", "sender.name");
    hr_assert_problem(
        hr_post(gw, "/api/campaigns",
                "{\"name\":\"X\",\"sender\":{\"name\":\"S\",\"email\":\"s@x.example\","
                "\"fax\":\"1\"}}"),
        400, "invalid-field", "sender.fax");
    cr_assert_eq(json_array_size(hr_json(hr_get(gw, "/api/campaigns"))), 0);
}

Test(seed_calls, an_incomplete_default_sender_stops_the_gateway_at_start)
{
    rd = hr_redis_start(NULL);
    hr_gateway_t *g = hr_gateway_spawn(rd, (const char *[]){"SENDER_COMPANY=Seller Ltd", NULL});
    cr_assert(hr_gateway_wait_exit(g, 5000), "the gateway started without SENDER_NAME");
    cr_assert(WIFEXITED(g->status) && WEXITSTATUS(g->status) == 2, "status %d", g->status);
    cr_assert(strstr(hr_gateway_output(g), "SENDER_NAME"), "%s", hr_gateway_output(g));
}
