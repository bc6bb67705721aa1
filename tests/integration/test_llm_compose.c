/* The compose stage with LLM_PROVIDER=template, end to end: a campaign run of 50 targets
 * through the real gateway, Redis, prospect-llm-worker and a prospect-test-worker for the form
 * stage; every task's message is the template personalised for its target. Processes are
 * started with posix_spawn and stopped by PID. */
#include <criterion/criterion.h>
#include <string.h>

#include "../llm-server/llm_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

TestSuite(llm_compose, .fini = lf_cleanup, .timeout = 120);

static void start(const char *const *llm_env)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"HEARTBEAT_MS=200", NULL});
    lf_llm_worker(rd, gw, llm_env);
}

#define SENDER                                                                                     \
    "{\"name\":\"Sam Seller\",\"email\":\"sam@seller.example\",\"company\":\"Seller Ltd\"}"
#define TEMPLATE                                                                                   \
    "Hi {{first_name|there}},\\n{{company}} in {{industry|your industry}}: {{hook}}\\n"            \
    "\\u2014 {{sender.name}}, {{sender.company}}"
#define LONG_HOOK                                                                                  \
    "This hook is deliberately long so that the message passes the limit of one hundred and "      \
    "twenty characters by a good margin."

static const char *const first_names[] = {"Ada Lovelace",      "  Émile   Zola ", "Grace Hopper",
                                          "Søren Kierkegaard", "Linus",           "Hedy Lamarr",
                                          "Alan M. Turing"};

/* Target i (1..50): its JSON and the message the template gives it. */
static const char *target_json(int i)
{
    const char *name = i % 5 == 0 ? NULL : first_names[i % 7];
    const char *hook = i == 50  ? LONG_HOOK
                       : i == 7 ? "Hook\\u0007 number 7."
                                : hr_fmt("Hook number %d.", i);
    return hr_fmt("{\"url\":\"https://t%d.example/\"%s%s%s,\"company\":\"Company "
                  "%d\",\"variables\":{\"hook\":\"%s\"%s}}",
                  i, name ? ",\"name\":\"" : "", name ? name : "", name ? "\"" : "", i, hook,
                  i % 3 == 0 ? "" : hr_fmt(",\"industry\":\"Industry %d\"", i));
}

static const char *expected(int i)
{
    if (i == 50) /* LLM_MAX_CHARS=120: cut at the last blank before the 121st character */
        return "Hi there,\nCompany 50 in Industry 50: This hook is deliberately long so that the "
               "message "
               "passes the limit of one hundred";
    const char *first = "there";
    if (i % 5 != 0) {
        const char *n = first_names[i % 7];
        while (*n == ' ') n++;
        first = hr_fmt("%.*s", (int)strcspn(n, " "), n);
    }
    const char *industry = i % 3 == 0 ? "your industry" : hr_fmt("Industry %d", i);
    return hr_fmt("Hi %s,\nCompany %d in %s: Hook number %d.\n\u2014 Sam Seller, Seller Ltd", first,
                  i, industry, i);
}

Test(llm_compose, fifty_targets_each_get_the_template_personalised)
{
    start((const char *[]){"LLM_MAX_CHARS=120", NULL}); /* LLM_PROVIDER unset: template */
    lf_test_worker(rd, gw, "form");
    size_t cap = 64 * 1024, len = 0;
    char *targets = malloc(cap);
    cr_assert(targets);
    len += (size_t)snprintf(targets, cap, "[");
    for (int i = 1; i <= 50; i++)
        len += (size_t)snprintf(targets + len, cap - len, "%s%s", i > 1 ? "," : "", target_json(i));
    snprintf(targets + len, cap - len, "]");
    const char *body = hr_fmt("{\"message_template\":\"" TEMPLATE "\",\"sender\":" SENDER
                              ",\"targets\":%s,\"options\":{\"enrich\":false}}",
                              targets);
    free(targets);
    const char *jid = lf_run(gw, body);
    json_t *job = lf_wait_completed(gw, jid, 60000);
    cr_assert_eq(hr_jint(json_object_get(job, "counts"), "succeeded", -1), 50, "%s", hr_jdump(job));

    json_t *tasks = lf_tasks(gw, jid);
    cr_assert_eq(json_array_size(tasks), 50, "%s", hr_jdump(tasks));
    for (int i = 1; i <= 50; i++) {
        json_t *t = lf_task_by_target(tasks, hr_fmt("https://t%d.example/", i));
        cr_assert(t, "no task for target %d: %s", i, hr_jdump(tasks));
        cr_assert_str_eq(hr_jstr(t, "state"), "succeeded", "target %d: %s", i, hr_jdump(t));
        cr_assert_str_eq(hr_jstr(t, "stage"), "submit", "target %d went through every stage: %s", i,
                         hr_jdump(t));
        json_t *c = lf_compose(t);
        cr_assert(json_is_object(c), "target %d has no compose result: %s", i, hr_jdump(t));
        cr_assert_str_eq(hr_jstr(c, "message"), expected(i), "target %d: %s", i, hr_jdump(c));
        cr_assert_str_eq(hr_jstr(c, "provider"), "template", "target %d: %s", i, hr_jdump(c));
        cr_assert(json_is_false(json_object_get(c, "fallback")), "target %d: %s", i, hr_jdump(c));
        cr_assert(json_is_null(json_object_get(c, "model")), "target %d: %s", i, hr_jdump(c));
        json_t *u = json_object_get(c, "usage");
        cr_assert(hr_jint(u, "prompt_tokens", -1) == 0 && hr_jint(u, "completion_tokens", -1) == 0,
                  "target %d: %s", i, hr_jdump(c));
    }
    lf_finish();
}

Test(llm_compose, a_placeholder_without_value_fails_the_task_and_names_it)
{
    start(NULL);
    const char *body =
        "{\"message_template\":\"Hi {{first_name|there}}, about {{favourite_colour}}\","
        "\"sender\":" SENDER ",\"targets\":[{\"url\":\"a.example\",\"name\":\"Ann Lee\"},"
        "{\"url\":\"b.example\",\"variables\":{\"favourite_colour\":\"blue\"}}],"
        "\"options\":{\"enrich\":false,\"stages\":[\"compose\"]}}";
    const char *jid = lf_run(gw, body);
    json_t *job = lf_wait_completed(gw, jid, 30000);
    json_t *counts = json_object_get(job, "counts");
    cr_assert(hr_jint(counts, "succeeded", -1) == 1 && hr_jint(counts, "failed", -1) == 1, "%s",
              hr_jdump(job));
    json_t *tasks = lf_tasks(gw, jid);
    json_t *a = lf_task_by_target(tasks, "https://a.example/");
    cr_assert_str_eq(hr_jstr(a, "state"), "failed", "%s", hr_jdump(a));
    cr_assert_eq(hr_jint(a, "attempt", -1), 1, "a template error is permanent: %s", hr_jdump(a));
    cr_assert(hr_jstr(a, "error") && strstr(hr_jstr(a, "error"), "{{favourite_colour}}"),
              "the error names the placeholder: %s", hr_jdump(a));
    json_t *b = lf_task_by_target(tasks, "https://b.example/");
    cr_assert_str_eq(hr_jstr(lf_compose(b), "message"), "Hi there, about blue", "%s", hr_jdump(b));
    lf_finish();
}
