/* gw_prospect_in_from_json + gw_prospect_in_validate: the field rules of docs/api.md (required
 * fields, null rules, unknown fields, types, id, status, dates, emails, URLs, lengths counted in
 * characters), gw_prospect_in_to_json round trips, and gw_prospect_new. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_prospect.h"
#include "pa_buf.h"
#include "pa_utf8.h"

typedef struct {
    json_t *j;
    gw_prospect_in_t in;
    char field[64];
    char err[256];
    int stage; /* 0 ok, 1 from_json failed, 2 validate failed */
} chk_t;

/* Parses text, reads it and validates it; the JSON stays alive in c->j for in's pointers. */
static int check(chk_t *c, const char *text, int creating)
{
    memset(c, 0, sizeof *c);
    json_error_t e;
    c->j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    cr_assert_not_null(c->j, "test input is not JSON: %s (%s)", text, e.text);
    if (gw_prospect_in_from_json(c->j, &c->in, c->field, c->err, sizeof c->err) < 0) {
        c->stage = 1;
        cr_assert_neq(c->err[0], '\0', "no message for %s", text);
        return -1;
    }
    if (gw_prospect_in_validate(&c->in, creating, c->field, c->err, sizeof c->err) < 0) {
        c->stage = 2;
        cr_assert_neq(c->field[0], '\0', "validation failed without naming the field: %s", text);
        cr_assert_neq(c->err[0], '\0', "no message for %s", text);
        return -1;
    }
    return 0;
}

static void done(chk_t *c)
{
    json_decref(c->j);
    c->j = NULL;
}

static void ok(const char *text, int creating)
{
    chk_t c;
    int rc = check(&c, text, creating);
    cr_assert_eq(rc, 0, "%s (creating %d) refused: %s: %s", text, creating, c.field, c.err);
    done(&c);
}

/* Expects a refusal naming field (and, when given, a message containing msg). */
static void bad(const char *text, int creating, const char *field, const char *msg)
{
    chk_t c;
    int rc = check(&c, text, creating);
    cr_assert_eq(rc, -1, "%s (creating %d) was accepted", text, creating);
    cr_assert_str_eq(c.field, field, "%s: field \"%s\", want \"%s\" (%s)", text, c.field, field,
                     c.err);
    if (msg)
        cr_assert(strstr(c.err, msg) != NULL, "%s: message \"%s\" lacks \"%s\"", text, c.err, msg);
    done(&c);
}

/* {"name":"A","company":"B",<extra>}, leaving out the default that extra gives itself */
static char *with(const char *extra)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_putc(&b, '{');
    if (strncmp(extra, "\"name\":", 7) != 0) pa_buf_puts(&b, "\"name\":\"A\",");
    if (strncmp(extra, "\"company\":", 10) != 0) pa_buf_puts(&b, "\"company\":\"B\",");
    pa_buf_puts(&b, extra);
    if (b.data[b.len - 1] == ',') b.len--;
    pa_buf_putc(&b, '}');
    return pa_buf_detach(&b, NULL);
}

static void ok_with(const char *extra)
{
    char *s = with(extra);
    ok(s, 1);
    ok(s, 0);
    free(s);
}

static void bad_with(const char *extra, const char *field, const char *msg)
{
    char *s = with(extra);
    bad(s, 1, field, msg);
    bad(s, 0, field, msg);
    free(s);
}

/* "<key>":"<value>" (value given raw, already JSON-safe) */
static char *kv(const char *key, const char *value)
{
    size_t n = strlen(key) + strlen(value) + 8;
    char *s = malloc(n);
    snprintf(s, n, "\"%s\":\"%s\"", key, value);
    return s;
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
    pa_buf_t b = PA_BUF_INIT;
    for (size_t i = 0; i < times; i++) pa_buf_puts(&b, unit);
    pa_buf_puts(&b, tail);
    return pa_buf_detach(&b, NULL);
}

static void ok_value(const char *key, const char *value)
{
    char *e = kv(key, value);
    ok_with(e);
    free(e);
}

static void bad_value(const char *key, const char *value, const char *msg)
{
    char *e = kv(key, value);
    bad_with(e, key, msg);
    free(e);
}

/* ---- required fields and null rules ---- */

Test(prospect_input, minimal_create)
{
    ok("{\"name\":\"Zoe Bianchi\",\"company\":\"Blue Learning SA\"}", 1);
    ok("{\"id\":\"p-000001\",\"name\":\"Zoe Bianchi\",\"company\":\"Blue Learning SA\","
       "\"status\":\"researching\",\"industry\":\"Logistics\",\"lastContactDate\":null,"
       "\"email\":\"zoe.bianchi@blue-learning-sa-1115.example\",\"title\":\"CTO\","
       "\"website\":\"https://blue-learning-sa-1115.example/\"}",
       1);
}

Test(prospect_input, required_fields_on_create)
{
    bad("{}", 1, "name", "required");
    bad("{\"company\":\"B\"}", 1, "name", "required");
    bad("{\"name\":\"A\"}", 1, "company", "required");
    bad("{\"name\":\"A\",\"status\":\"new\"}", 1, "company", "required");
    /* an update needs none of them */
    ok("{}", 0);
    ok("{\"company\":\"B\"}", 0);
    ok("{\"status\":\"qualified\"}", 0);
}

Test(prospect_input, null_rules)
{
    static const char *const never_null[] = {"name", "company", "status"};
    for (size_t i = 0; i < 3; i++) {
        char extra[64];
        snprintf(extra, sizeof extra, "{\"%s\":null}", never_null[i]);
        bad(extra, 0, never_null[i], "must not be null");
        snprintf(extra, sizeof extra, "\"%s\":null", never_null[i]);
        bad_with(extra, never_null[i], "must not be null");
    }
    static const char *const nullable[] = {"industry", "lastContactDate", "email", "title",
                                           "website"};
    for (size_t i = 0; i < 5; i++) {
        char extra[64];
        snprintf(extra, sizeof extra, "\"%s\":null", nullable[i]);
        ok_with(extra);
        chk_t c;
        char *s = with(extra);
        cr_assert_eq(check(&c, s, 1), 0);
        int f = -1;
        for (int k = 0; k < GW_F_COUNT; k++)
            if (strcmp(gw_field_names[k], nullable[i]) == 0) f = k;
        cr_assert_eq(c.in.present[f], 1, "%s: null is present[]=1", nullable[i]);
        cr_assert_null(c.in.val[f]);
        done(&c);
        free(s);
    }
}

Test(prospect_input, presence_and_values_are_recorded)
{
    chk_t c;
    cr_assert_eq(
        check(&c, "{\"id\":\"p-7\",\"name\":\"Müller\",\"company\":\"X\",\"title\":null}", 1), 0);
    cr_assert_eq(c.in.id_len, 3);
    cr_assert(memcmp(c.in.id, "p-7", 3) == 0);
    cr_assert_eq(c.in.present[GW_F_NAME], 2);
    cr_assert_eq(c.in.len[GW_F_NAME], strlen("Müller"), "lengths are in bytes");
    cr_assert(memcmp(c.in.val[GW_F_NAME], "Müller", c.in.len[GW_F_NAME]) == 0);
    cr_assert_eq(c.in.present[GW_F_COMPANY], 2);
    cr_assert_eq(c.in.present[GW_F_TITLE], 1);
    cr_assert_eq(c.in.present[GW_F_STATUS], 0);
    cr_assert_eq(c.in.present[GW_F_EMAIL], 0);
    done(&c);
    cr_assert_eq(check(&c, "{\"name\":\"A\",\"company\":\"B\"}", 1), 0);
    cr_assert_null(c.in.id, "absent id");
    done(&c);
}

/* ---- unknown fields and types ---- */

Test(prospect_input, unknown_field_is_named)
{
    bad_with("\"phone\":\"123\"", "phone", "unknown");
    bad_with("\"Name\":\"x\"", "Name", "unknown");
    bad_with("\"last_contact_date\":null", "last_contact_date", "unknown");
    bad_with("\"\":1", "", "unknown");
    /* a very long unknown name is cut to fit the 64-byte field */
    char *longname = repeat("k", 300, "");
    char *extra = kv(longname, "v");
    char *s = with(extra);
    chk_t c;
    cr_assert_eq(check(&c, s, 1), -1);
    cr_assert_eq(c.stage, 1);
    cr_assert_eq(strlen(c.field), 63);
    cr_assert(strncmp(c.field, longname, 63) == 0);
    cr_assert(strstr(c.err, "unknown") != NULL, "err: %s", c.err);
    done(&c);
    free(s);
    free(extra);
    free(longname);
}

Test(prospect_input, wrong_types)
{
    static const char *const fields[] = {
        "name", "company", "status", "industry", "lastContactDate", "email", "title", "website"};
    static const char *const values[] = {"5",  "1.5",     "true", "false",
                                         "[]", "[\"a\"]", "{}",   "{\"a\":1}"};
    for (size_t f = 0; f < 8; f++) {
        for (size_t v = 0; v < 8; v++) {
            char extra[96];
            snprintf(extra, sizeof extra, "\"%s\":%s", fields[f], values[v]);
            bad_with(extra, fields[f], "must be a string");
        }
    }
    bad_with("\"id\":5", "id", "string");
    bad_with("\"id\":null", "id", "string");
    bad_with("\"id\":[\"p-1\"]", "id", "string");
}

Test(prospect_input, not_an_object)
{
    static const char *const texts[] = {"[]", "[{\"name\":\"A\"}]", "\"x\"", "5", "null", "true"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        chk_t c;
        cr_assert_eq(check(&c, texts[i], 1), -1, "%s accepted", texts[i]);
        cr_assert_eq(c.stage, 1);
        cr_assert_str_eq(c.field, "");
        cr_assert(strstr(c.err, "object") != NULL, "err: %s", c.err);
        done(&c);
    }
}

/* ---- id ---- */

Test(prospect_input, id_charset_and_length)
{
    static const char *const good[] = {"p-000001", "a", "A.b_c-D9", "0", "_", "-", ".", "p-01J8ZK"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) ok_value("id", good[i]);
    char *max = repeat("x", GW_ID_MAX, ""), *over = repeat("x", GW_ID_MAX + 1, "");
    ok_value("id", max);
    bad_value("id", over, "1 to 64");
    static const char *const badids[] = {"",    "p 1",       "p/1", "é",    "p:1", "p+1", "p@1",
                                         "p~1", "p\\u00001", "\\t", "p%20", "p,1", "p*"};
    for (size_t i = 0; i < sizeof badids / sizeof badids[0]; i++) bad_value("id", badids[i], "id");
    cr_assert(gw_id_valid("p-1", 3));
    cr_assert_not(gw_id_valid("p-1", 0));
    cr_assert(gw_id_valid(max, GW_ID_MAX));
    cr_assert_not(gw_id_valid(over, GW_ID_MAX + 1));
    free(max);
    free(over);
}

/* ---- status ---- */

Test(prospect_input, status_enum)
{
    for (int i = 0; i < GW_STATUS_COUNT; i++) {
        ok_value("status", gw_status_names[i]);
        cr_assert_eq(gw_status_index(gw_status_names[i], strlen(gw_status_names[i])), i);
    }
    static const char *const badst[] = {"",     "New",     "NEW",        "unknown",      "new ",
                                        " new", "contact", "qualifiedx", "dis qualified"};
    for (size_t i = 0; i < sizeof badst / sizeof badst[0]; i++)
        bad_value("status", badst[i], "must be one of");
    bad_value("status", "contacted\\u0000", NULL);
    cr_assert_eq(gw_status_index("newx", 3), 0, "only n bytes are compared");
    cr_assert_eq(gw_status_index("ne", 2), -1);
}

/* ---- lastContactDate ---- */

Test(prospect_input, dates)
{
    static const char *const good[] = {"2024-02-29", "2000-02-29", "2026-04-30", "2026-12-31",
                                       "2026-01-01", "1999-12-31", "2023-02-28"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) ok_value("lastContactDate", good[i]);
    static const char *const baddates[] = {
        "2023-02-29", "1900-02-29",           "2100-02-29", "2026-13-01", "2026-00-10",
        "2026-04-31", "2026-01-32",           "2026-01-00", "2026-1-01",  "2026/01/01",
        "20260101",   "2026-01-01T00:00:00Z", "",           "abcd-ef-gh", "2026-01-0a",
        "+026-01-01", " 2026-01-1",           "2026-02-30"};
    for (size_t i = 0; i < sizeof baddates / sizeof baddates[0]; i++)
        bad_value("lastContactDate", baddates[i], "YYYY-MM-DD");
}

/* ---- email ---- */

Test(prospect_input, emails)
{
    static const char *const good[] = {"a@b.co", "zoe.bianchi@blue-learning-sa-1115.example",
                                       "x+tag@sub.example.com", "UPPER@EXAMPLE.COM",
                                       "o'brien@example.ie"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) ok_value("email", good[i]);
    static const char *const bademails[] = {"",          "a",         "a@",       "@b.co",
                                            "a@b",       "a@@b.co",   "a@b@c.co", "a b@c.co",
                                            "a@.b.co",   "a@b.co.",   "<a@b.co>", "a@b.co,c@d.co",
                                            "a@b.co\\n", "\\ta@b.co", "ab.co"};
    for (size_t i = 0; i < sizeof bademails / sizeof bademails[0]; i++)
        bad_value("email", bademails[i], "email");
    /* at most 254 bytes */
    char *e254 = repeat("a", 254 - strlen("@example.com"), "@example.com");
    char *e255 = repeat("a", 255 - strlen("@example.com"), "@example.com");
    cr_assert_eq(strlen(e254), 254);
    ok_value("email", e254);
    bad_value("email", e255, "email");
    free(e254);
    free(e255);
}

/* ---- website ---- */

Test(prospect_input, urls_http_and_https_only)
{
    static const char *const good[] = {"http://example.com", "https://example.com/",
                                       "https://blue-learning-sa-1115.example/path?q=1#frag",
                                       "http://127.0.0.1:8080/x", "https://例え.jp/"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) ok_value("website", good[i]);
    static const char *const badurls[] = {"",
                                          "example.com",
                                          "ftp://example.com",
                                          "http://",
                                          "https://",
                                          "http:///path",
                                          "https://?q",
                                          "http://#x",
                                          "javascript:alert(1)",
                                          "mailto:a@b.co",
                                          "//example.com",
                                          "http:/example.com",
                                          "http://exa mple.com",
                                          "https://example.com/\\\"x",
                                          "https://example.com/<x>",
                                          "http://example.com\\n",
                                          " http://example.com"};
    for (size_t i = 0; i < sizeof badurls / sizeof badurls[0]; i++)
        bad_value("website", badurls[i], "http");
    /* at most 2048 bytes */
    char *u2048 = repeat("a", 2048 - strlen("https://example.com/"), "");
    char *full = malloc(2100);
    snprintf(full, 2100, "https://example.com/%s", u2048);
    cr_assert_eq(strlen(full), 2048);
    ok_value("website", full);
    snprintf(full, 2100, "https://example.com/%sb", u2048);
    bad_value("website", full, "http");
    free(full);
    free(u2048);
}

/* ---- lengths in characters ---- */

static void length_limits(const char *field, size_t min, size_t max)
{
    static const char *const units[] = {"a", "é", "Σ", "東", "😀"};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        char *atmax = repeat(units[u], max, ""), *over = repeat(units[u], max + 1, "");
        ok_value(field, atmax);
        bad_value(field, over, "characters");
        free(atmax);
        free(over);
    }
    if (min) bad_value(field, "", "characters");
    else ok_value(field, "");
}

Test(prospect_input, name_and_company_1_to_200_characters)
{
    length_limits("name", 1, 200);
    length_limits("company", 1, 200);
    /* 200 "é" is 400 bytes: fine; 201 is not */
    char *e200 = repeat("é", 200, ""), *e201 = repeat("é", 201, "");
    cr_assert_eq(strlen(e200), 400);
    char text[1024];
    snprintf(text, sizeof text, "{\"name\":\"%s\",\"company\":\"%s\"}", e200, e200);
    ok(text, 1);
    snprintf(text, sizeof text, "{\"name\":\"%s\",\"company\":\"B\"}", e201);
    bad(text, 1, "name", "1 to 200 characters");
    free(e200);
    free(e201);
}

Test(prospect_input, title_at_most_200_characters)
{
    length_limits("title", 0, 200);
}

Test(prospect_input, industry_1_to_100_characters)
{
    length_limits("industry", 1, 100);
}

Test(prospect_input, nul_and_invalid_utf8_are_refused)
{
    /* jansson accepts \u0000 with JSON_ALLOW_NUL: the length then covers the NUL */
    bad_with("\"name\":\"a\\u0000b\"", "name", "UTF-8");
    bad_with("\"title\":\"\\u0000\"", "title", "UTF-8");
    /* input that did not come through jansson (CSV cells are checked the same way) */
    gw_prospect_in_t in;
    memset(&in, 0, sizeof in);
    in.present[GW_F_NAME] = in.present[GW_F_COMPANY] = 2;
    in.val[GW_F_NAME] = "ok";
    in.len[GW_F_NAME] = 2;
    static const char *const invalid[] = {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "a\xe2\x82"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        char field[64], err[256];
        in.val[GW_F_COMPANY] = invalid[i];
        in.len[GW_F_COMPANY] = strlen(invalid[i]);
        cr_assert_eq(gw_prospect_in_validate(&in, 1, field, err, sizeof err), -1, "case %zu", i);
        cr_assert_str_eq(field, "company");
    }
}

Test(prospect_input, first_error_wins_and_messages_fit)
{
    /* a small err buffer is not overrun */
    json_t *j = json_loads("{\"status\":\"nope\"}", 0, NULL);
    gw_prospect_in_t in;
    char field[64], err[8];
    memset(err, 'Z', sizeof err);
    cr_assert_eq(gw_prospect_in_from_json(j, &in, field, err, sizeof err), 0);
    cr_assert_eq(gw_prospect_in_validate(&in, 0, field, err, sizeof err), -1);
    cr_assert_str_eq(field, "status");
    cr_assert_eq(strlen(err), sizeof err - 1, "message cut to the buffer");
    json_decref(j);
}

/* ---- gw_prospect_in_to_json ---- */

static void round_trip(const char *text)
{
    chk_t c;
    cr_assert_eq(check(&c, text, 0), 0, "%s refused: %s", text, c.err);
    char *out = gw_prospect_in_to_json(&c.in);
    json_error_t e;
    json_t *back = json_loads(out, JSON_REJECT_DUPLICATES, &e);
    cr_assert_not_null(back, "to_json output is not JSON: %s (%s)", out, e.text);
    cr_assert(json_is_object(back));
    size_t present = 0;
    for (int f = 0; f < GW_F_COUNT; f++) {
        const json_t *v = json_object_get(back, gw_field_names[f]);
        if (!c.in.present[f]) {
            cr_assert_null(v, "%s: absent %s appears in %s", text, gw_field_names[f], out);
            continue;
        }
        present++;
        cr_assert_not_null(v, "%s: %s missing from %s", text, gw_field_names[f], out);
        if (c.in.present[f] == 1) {
            cr_assert(json_is_null(v), "%s: %s should be null in %s", text, gw_field_names[f], out);
        } else {
            cr_assert(json_is_string(v));
            cr_assert_eq(json_string_length(v), c.in.len[f], "%s: %s length", text,
                         gw_field_names[f]);
            cr_assert(memcmp(json_string_value(v), c.in.val[f], c.in.len[f]) == 0, "%s: %s value",
                      text, gw_field_names[f]);
            /* the same value as in the original document */
            cr_assert(json_equal(v, json_object_get(c.j, gw_field_names[f])));
        }
    }
    cr_assert_eq(json_object_size(back), present, "%s: extra members in %s", text, out);
    json_decref(back);
    free(out);
    done(&c);
}

Test(prospect_to_json, round_trips)
{
    round_trip("{}");
    round_trip("{\"name\":\"Zoe\"}");
    round_trip(
        "{\"id\":\"p-1\",\"name\":\"Müller, ÉMILE\",\"company\":\"Σοφία \\\"Ltd\\\" \\\\ x\","
        "\"status\":\"replied\",\"industry\":null,\"lastContactDate\":\"2024-02-29\","
        "\"email\":null,\"title\":\"line\\nbreak\\ttab\\r\\u0001\\u001f\\u007f\","
        "\"website\":\"https://example.com/a?b=c&d=%3C\"}");
    round_trip("{\"title\":\"\\u2028\\u2029 😀 東京\",\"industry\":\"é\",\"email\":null}");
    round_trip("{\"title\":\"\"}");
}

Test(prospect_to_json, empty_input_is_empty_object)
{
    gw_prospect_in_t in;
    memset(&in, 0, sizeof in);
    char *out = gw_prospect_in_to_json(&in);
    cr_assert_str_eq(out, "{}");
    free(out);
}

/* ---- gw_prospect_new ---- */

Test(prospect_new, builds_the_record)
{
    const char *vals[GW_F_COUNT] = {0};
    vals[GW_F_NAME] = "ÉMILE Müller";
    vals[GW_F_COMPANY] = "Σοφία \"Q\" AG";
    vals[GW_F_STATUS] = "contacted";
    vals[GW_F_INDUSTRY] = "ÉNERGIE";
    vals[GW_F_EMAIL] = "Emile@Example.COM";
    gw_prospect_t *p = gw_prospect_new("p-000042", vals);
    cr_assert_not_null(p);
    cr_assert_str_eq(p->id, "p-000042");
    cr_assert_eq(p->status, 2);
    cr_assert_str_eq(p->f[GW_F_NAME], vals[GW_F_NAME]);
    cr_assert_null(p->f[GW_F_TITLE]);
    cr_assert_str_eq(p->hay, "émile müller\nσοφία \"q\" ag\nemile@example.com");
    cr_assert_eq(p->hay_len, strlen(p->hay));
    cr_assert_str_eq(p->industry_key, "énergie");
    json_error_t e;
    json_t *j = json_loadb(p->json, p->json_len, 0, &e);
    cr_assert_not_null(j, "record JSON: %s", e.text);
    cr_assert_eq(json_object_size(j), 1 + GW_F_COUNT);
    cr_assert_str_eq(json_string_value(json_object_get(j, "id")), "p-000042");
    for (int f = 0; f < GW_F_COUNT; f++) {
        json_t *v = json_object_get(j, gw_field_names[f]);
        if (vals[f]) cr_assert_str_eq(json_string_value(v), vals[f]);
        else cr_assert(json_is_null(v), "%s should be null", gw_field_names[f]);
    }
    json_decref(j);
    free(p);
}

Test(prospect_new, refuses_bad_records)
{
    const char *vals[GW_F_COUNT] = {0};
    vals[GW_F_NAME] = "A";
    vals[GW_F_COMPANY] = "B";
    vals[GW_F_STATUS] = "new";
    gw_prospect_t *p = gw_prospect_new("p-1", vals);
    cr_assert_not_null(p);
    cr_assert_null(p->industry_key);
    cr_assert_str_eq(p->hay, "a\nb\n");
    free(p);
    cr_assert_null(gw_prospect_new("", vals));
    cr_assert_null(gw_prospect_new("p 1", vals));
    vals[GW_F_STATUS] = "bogus";
    cr_assert_null(gw_prospect_new("p-1", vals));
    vals[GW_F_STATUS] = NULL;
    cr_assert_null(gw_prospect_new("p-1", vals));
    vals[GW_F_STATUS] = "new";
    vals[GW_F_NAME] = NULL;
    cr_assert_null(gw_prospect_new("p-1", vals));
    vals[GW_F_NAME] = "A";
    vals[GW_F_COMPANY] = NULL;
    cr_assert_null(gw_prospect_new("p-1", vals));
}

Test(prospect_new, from_doc)
{
    json_t *doc = json_loads("{\"id\":\"c.1\",\"name\":\"N\",\"company\":\"C\",\"status\":\"new\","
                             "\"industry\":\"SaaS\",\"extra\":1,\"title\":5}",
                             0, NULL);
    gw_prospect_t *p = gw_prospect_from_doc(doc);
    cr_assert_not_null(p);
    cr_assert_str_eq(p->industry_key, "saas");
    cr_assert_null(p->f[GW_F_TITLE], "a non-string value is taken as null");
    free(p);
    json_object_set_new(doc, "id", json_integer(1));
    cr_assert_null(gw_prospect_from_doc(doc));
    json_decref(doc);
}
