/* The compose stage's templates and guardrails (workers/llm/llm_template.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "llm_template.h"

static json_t *input, *sender, *enrich;
static pa_buf_t out;
static char err[256];

static void setup(void)
{
    input = json_loads(
        "{\"prospect_id\":\"p-000042\",\"name\":\"Ada  Lovelace King\",\"company\":\"Acme\","
        "\"email\":\"ada@acme.example\",\"industry\":\"Robotics\",\"title\":\"CTO\","
        "\"website\":\"https://acme.example/\",\"variables\":{\"event\":\"SaaStr\","
        "\"n\":3,\"ratio\":0.5,\"vip\":true,\"a.b\":\"dotted\",\"blank\":\"  \"}}",
        0, NULL);
    sender = json_loads("{\"name\":\"Sam\",\"email\":\"sam@us.example\",\"company\":\"Us Ltd\"}", 0,
                        NULL);
    enrich = json_loads(
        "{\"company_info\":{\"description\":\"makes robots\",\"size\":120,"
        "\"tags\":[\"ai\",\"hardware\",null,\"b2b\"],\"offices\":[{\"city\":\"Oslo\"}]}}",
        0, NULL);
    cr_assert(input && sender && enrich);
    err[0] = '\0';
}

static void teardown(void)
{
    json_decref(input);
    json_decref(sender);
    json_decref(enrich);
    pa_buf_free(&out);
}

TestSuite(llm_template, .init = setup, .fini = teardown);

static const char *render_ok(const char *tmpl)
{
    llm_fields_t f = {input, sender, enrich};
    int rc =
        llm_compose_template(tmpl, strlen(tmpl), &f, LLM_MAX_CHARS_DEFAULT, &out, err, sizeof err);
    cr_assert_eq(rc, 0, "render %s: %s", tmpl, err);
    return out.data;
}

static const char *render_err(const char *tmpl)
{
    llm_fields_t f = {input, sender, enrich};
    int rc =
        llm_compose_template(tmpl, strlen(tmpl), &f, LLM_MAX_CHARS_DEFAULT, &out, err, sizeof err);
    cr_assert_eq(rc, -1, "render %s: expected an error, got '%s'", tmpl, out.data ? out.data : "");
    return err;
}

Test(llm_template, prospect_fields)
{
    cr_assert_str_eq(render_ok("Hi {{first_name}} {{last_name}} ({{name}})"),
                     "Hi Ada Lovelace King (Ada  Lovelace King)");
    cr_assert_str_eq(
        render_ok("{{company}}/{{industry}}/{{title}}/{{website}}/{{email}}/{{prospect_id}}"),
        "Acme/Robotics/CTO/https://acme.example//ada@acme.example/p-000042");
}

Test(llm_template, sender_enrichment_and_variables)
{
    cr_assert_str_eq(render_ok("{{sender.name}} of {{sender.company}} <{{sender.email}}>"),
                     "Sam of Us Ltd <sam@us.example>");
    cr_assert_str_eq(render_ok("{{company_info.description}}, {{enrich.company_info.size}} people"),
                     "makes robots, 120 people");
    cr_assert_str_eq(render_ok("{{company_info.tags}} in {{company_info.offices.0.city}}"),
                     "ai, hardware, b2b in Oslo");
    cr_assert_str_eq(
        render_ok(
            "{{variables.event}} {{event}} {{n}} {{ratio}} {{vip}} {{a.b}} {{variables.a.b}}"),
        "SaaStr SaaStr 3 0.5 true dotted dotted");
}

Test(llm_template, variables_win_over_prospect_fields)
{
    json_object_set_new(json_object_get(input, "variables"), "company", json_string("ACME Inc."));
    json_object_set_new(json_object_get(input, "variables"), "first_name", json_string("Countess"));
    cr_assert_str_eq(render_ok("{{first_name}} at {{company}}"), "Countess at ACME Inc.");
}

Test(llm_template, defaults_and_blanks_inside_braces)
{
    cr_assert_str_eq(render_ok("Hi {{ first_name | there }}!"), "Hi Ada!");
    cr_assert_str_eq(render_ok("Hi {{nickname|there}}, {{blank|fine}}.{{phone|}}"),
                     "Hi there, fine.");
    cr_assert_str_eq(render_ok("{{sender.phone| call us }} {{company_info.ceo|the team}}"),
                     "call us the team");
    json_object_set_new(input, "name", json_string("Cher"));
    cr_assert_str_eq(render_ok("{{first_name}} {{last_name|}}|"), "Cher |");
    json_object_del(input, "name");
    cr_assert_str_eq(render_ok("Hi {{first_name|there}}"), "Hi there");
}

Test(llm_template, explicit_first_and_last_name_are_used)
{
    json_object_set_new(input, "first_name", json_string("Augusta"));
    json_object_set_new(input, "last_name", json_string("Byron"));
    cr_assert_str_eq(render_ok("{{first_name}} {{last_name}}"), "Augusta Byron");
}

Test(llm_template, missing_value_names_the_placeholder)
{
    cr_assert(strstr(render_err("Hi {{nickname}}"), "{{nickname}}"), "%s", err);
    cr_assert(strstr(render_err("{{sender.phone}}"), "{{sender.phone}}"), "%s", err);
    cr_assert(strstr(render_err("{{company_info}}"), "{{company_info}}"), "%s",
              err); /* an object */
    cr_assert(strstr(render_err("{{blank}}"), "{{blank}}"), "%s", err);
    json_object_del(input, "name");
    cr_assert(strstr(render_err("Hi {{first_name}}"), "{{first_name}}"), "%s", err);
    cr_assert_eq(out.len, 0, "nothing is left in out after an error");
}

Test(llm_template, syntax_errors)
{
    cr_assert(strstr(render_err("Hi {{first_name"), "unclosed"), "%s", err);
    cr_assert(strstr(render_err("Hi {{a {{b}} }}"), "nest"), "%s", err);
    cr_assert(strstr(render_err("Hi {{}}"), "bad placeholder"), "%s", err);
    cr_assert(strstr(render_err("Hi {{ |x}}"), "bad placeholder"), "%s", err);
    cr_assert(strstr(render_err("Hi {{first name}}"), "bad placeholder"), "%s", err);
    cr_assert(strstr(render_err("Hi {{.x}}"), "bad placeholder"), "%s", err);
    cr_assert(strstr(render_err(""), "empty"), "%s", err);
    cr_assert(strstr(render_err("Hi \xff"), "UTF-8"), "%s", err);
    /* a lone }} or { is text */
    cr_assert_str_eq(render_ok("a } b }} c { d"), "a } b }} c { d");
}

Test(llm_template, template_length_bound)
{
    char *t = malloc(LLM_TEMPLATE_MAX_CHARS * 2 + 8);
    cr_assert(t);
    /* 10,000 two-byte characters is fine, one more is not */
    size_t n = 0;
    for (int i = 0; i < LLM_TEMPLATE_MAX_CHARS; i++) t[n++] = '\xc3', t[n++] = '\xa9';
    t[n] = '\0';
    llm_fields_t f = {input, sender, enrich};
    cr_assert_eq(llm_render(t, n, &f, &out, err, sizeof err), 0, "%s", err);
    t[n++] = 'x';
    t[n] = '\0';
    pa_buf_reset(&out);
    cr_assert_eq(llm_render(t, n, &f, &out, err, sizeof err), -1);
    cr_assert(strstr(err, "10000"), "%s", err);
    free(t);
}

Test(llm_template, values_are_not_expanded_again)
{
    json_object_set_new(json_object_get(input, "variables"), "trick",
                        json_string("{{sender.email}}"));
    /* the value lands as text; the guardrail then refuses the unfilled-looking placeholder */
    cr_assert(strstr(render_err("x {{trick}}"), "unfilled placeholder {{sender.email}}"), "%s",
              err);
    json_object_set_new(json_object_get(input, "variables"), "half", json_string("{{ and }"));
    cr_assert_str_eq(render_ok("x {{half}}"), "x {{ and }");
}

static const char *guard(const char *s, size_t max)
{
    int rc = llm_guard(s, strlen(s), max, &out, err, sizeof err);
    cr_assert_eq(rc, 0, "guard '%s': %s", s, err);
    return out.data;
}

Test(llm_template, guard_strips_control_characters)
{
    cr_assert_str_eq(guard("  Hi\tthere\r\nline\rtwo\x01\x1b[31m\x7f \xc2\x85x\n\n", 100),
                     "Hi there\nline\ntwo[31m x");
    /* bidi and zero-width format characters, invalid bytes */
    cr_assert_str_eq(guard("a\xe2\x80\xae"
                           "b\xe2\x80\x8b"
                           "c\xef\xbb\xbf"
                           "d\xff\xc3"
                           "e",
                           100),
                     "abcde");
    /* U+2028 becomes a newline; other non-ASCII text stays */
    cr_assert_str_eq(guard("Grüße\xe2\x80\xa8日本", 100), "Grüße\n日本");
}

Test(llm_template, guard_refuses_empty_and_unfilled)
{
    cr_assert_eq(llm_guard(" \n\t\x01 ", 6, 100, &out, err, sizeof err), -1);
    cr_assert(strstr(err, "empty"), "%s", err);
    cr_assert_eq(llm_guard("Hi {{name}}!", 12, 100, &out, err, sizeof err), -1);
    cr_assert(strstr(err, "{{name}}"), "%s", err);
    cr_assert_eq(llm_guard("", 0, 100, &out, err, sizeof err), -1);
}

Test(llm_template, guard_cuts_at_a_word_boundary_counting_characters)
{
    cr_assert_str_eq(guard("one two three", 13), "one two three");
    cr_assert_str_eq(guard("one two three", 12), "one two");
    cr_assert_str_eq(guard("one two three", 8), "one two");
    cr_assert_str_eq(guard("one two three", 7), "one two");
    cr_assert_str_eq(guard("one two three", 6), "one");
    /* characters, not bytes: 'é' is one */
    cr_assert_str_eq(guard("été été été", 7), "été été");
    cr_assert_str_eq(guard("été été été", 6), "été");
    /* one word longer than the limit is cut inside it, on a character boundary */
    cr_assert_str_eq(guard("ééééé", 3), "ééé");
    cr_assert_str_eq(guard("hello\n\nworld again", 14), "hello\n\nworld");
    cr_assert_str_eq(guard("abc", 0), "abc"); /* 0: no limit */
}

Test(llm_template, long_message_is_cut_to_max_chars)
{
    json_object_set_new(json_object_get(input, "variables"), "pitch",
                        json_string("lorem ipsum dolor sit amet "));
    const char *t = "{{pitch}}{{pitch}}{{pitch}}{{pitch}}{{pitch}}{{pitch}}{{pitch}}{{pitch}}";
    llm_fields_t f = {input, sender, enrich};
    cr_assert_eq(llm_compose_template(t, strlen(t), &f, 30, &out, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(out.data, "lorem ipsum dolor sit amet");
}
