/* POST /api/prospects/import: NDJSON and CSV, counts of imported and updated rows, upsert by id
 * and by email, bad rows rejected with their line number while the others are kept, CSV quoting,
 * unknown CSV columns, and the import limits. All data is generated here. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;

static void setup(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, NULL);
}

static void setup_limits(void)
{
    rd = hr_redis_start(NULL);
    gw = hr_gateway_start(rd, (const char *[]){"IMPORT_MAX_ROWS=5", "IMPORT_MAX_BYTES=4k", NULL});
}

TestSuite(import, .init = setup, .fini = hr_cleanup, .timeout = 40);
TestSuite(import_limits, .init = setup_limits, .fini = hr_cleanup, .timeout = 40);

static const char *NDJSON = "Content-Type: application/x-ndjson";
static const char *CSV = "Content-Type: text/csv";

static hr_resp_t *import(const char *ct, const char *body)
{
    return hr_req(gw, "POST", "/api/prospects/import", (const char *[]){ct, NULL}, body);
}

/* Asserts a 200 import result with these counts and exactly these rejected lines (space-separated
 * ascending, "" for none); every rejection must carry a non-empty error. Returns the result. */
static json_t *expect_result(hr_resp_t *r, long long imported, long long updated,
                             const char *rejected_lines)
{
    cr_assert_eq(r->status, 200, "import: %s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_object(j), "not a JSON object: %s", hr_describe(r));
    cr_assert(json_is_integer(json_object_get(j, "imported")), "no imported count: %s",
              hr_describe(r));
    cr_assert(json_is_integer(json_object_get(j, "updated")), "no updated count: %s",
              hr_describe(r));
    json_t *rej = json_object_get(j, "rejected");
    cr_assert(json_is_array(rej), "rejected is not an array: %s", hr_describe(r));
    char got[512] = "";
    size_t i;
    json_t *e;
    json_array_foreach(rej, i, e) {
        cr_assert(json_is_integer(json_object_get(e, "line")), "rejection without a line: %s",
                  hr_jdump(e));
        const char *err = hr_jstr(e, "error");
        cr_assert(err && *err, "rejection without an error: %s", hr_jdump(e));
        size_t l = strlen(got);
        snprintf(got + l, sizeof got - l, "%s%lld", l ? " " : "", hr_jint(e, "line", -1));
    }
    cr_assert_str_eq(got, rejected_lines, "rejected lines [%s], want [%s]: %s", got, rejected_lines,
                     hr_describe(r));
    json_t *rt = json_object_get(j, "rejected_total");
    cr_assert(json_is_integer(rt) && (size_t)json_integer_value(rt) == json_array_size(rej),
              "rejected_total should be %zu: %s", json_array_size(rej), hr_describe(r));
    cr_assert_eq(hr_jint(j, "imported", -1), imported, "imported: %s", hr_describe(r));
    cr_assert_eq(hr_jint(j, "updated", -1), updated, "updated: %s", hr_describe(r));
    return j;
}

/* The rejection for a line (NULL when that line was not rejected). */
static const char *rejection(json_t *result, long long line)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(result, "rejected"), i, e)
        if (hr_jint(e, "line", -1) == line) return hr_jstr(e, "error");
    return NULL;
}

static json_t *get_prospect(const char *id)
{
    hr_resp_t *r = hr_get(gw, hr_fmt("/api/prospects/%s", id));
    cr_assert_eq(r->status, 200, "GET %s: %s", id, hr_describe(r));
    return hr_json(r);
}

static long long total(const char *query)
{
    hr_resp_t *r = hr_get(gw, hr_fmt("/api/prospects?limit=1%s%s", *query ? "&" : "", query));
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    const char *t = hr_header(r, "X-Total-Count");
    cr_assert_not_null(t);
    return atoll(t);
}

/* The one prospect found by searching for s. */
static json_t *find_one(const char *s)
{
    hr_resp_t *r = hr_get(gw, hr_fmt("/api/prospects?search=%s", hr_urlenc(s)));
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_eq(json_array_size(hr_json(r)), 1, "search %s: %s", s, hr_describe(r));
    return json_array_get(hr_json(r), 0);
}

/* ---- NDJSON ------------------------------------------------------------------------------- */

Test(import, ndjson_creates_with_and_without_ids)
{
    const char *body =
        "{\"id\":\"p-n1\",\"name\":\"Zoe Bianchi\",\"company\":\"Blue Learning SA\","
        "\"status\":\"researching\",\"industry\":\"Logistics\",\"email\":\"zoe@blue.example\"}\n"
        "{\"id\":\"p-n2\",\"name\":\"Hans Müller\",\"company\":\"Alpen AG\"}\n"
        "{\"name\":\"Ada Lovelace\",\"company\":\"Engines\",\"email\":\"ada@engines.example\"}\n"
        "{\"name\":\"Alan Turing\",\"company\":\"Bletchley\"}\n";
    expect_result(import(NDJSON, body), 4, 0, "");
    json_t *p = get_prospect("p-n1");
    cr_assert_str_eq(hr_jstr(p, "name"), "Zoe Bianchi");
    cr_assert_str_eq(hr_jstr(p, "status"), "researching");
    cr_assert_str_eq(hr_jstr(p, "industry"), "Logistics");
    cr_assert_str_eq(hr_jstr(get_prospect("p-n2"), "name"), "Hans Müller");
    cr_assert_str_eq(hr_jstr(get_prospect("p-n2"), "status"), "new", "default status");
    json_t *ada = find_one("ada@engines.example");
    const char *id = hr_jstr(ada, "id");
    cr_assert(id && strncmp(id, "p-", 2) == 0 && strlen(id) == 28, "generated id %s", id);
    find_one("Alan Turing");
    cr_assert_eq(total(""), 4);
}

Test(import, ndjson_last_line_without_newline)
{
    expect_result(
        import(NDJSON, "{\"name\":\"A\",\"company\":\"B\"}\n{\"name\":\"C\",\"company\":\"D\"}"), 2,
        0, "");
    cr_assert_eq(total(""), 2);
}

Test(import, upsert_by_id_and_by_email)
{
    hr_must_create(
        gw, "/api/prospects",
        "{\"id\":\"p-1\",\"name\":\"Old One\",\"company\":\"C\",\"email\":\"one@x.example\"}");
    hr_must_create(
        gw, "/api/prospects",
        "{\"id\":\"p-2\",\"name\":\"Old Two\",\"company\":\"C\",\"email\":\"two@x.example\"}");
    const char *body =
        /* line 1: id exists -> update */
        "{\"id\":\"p-1\",\"name\":\"New One\",\"company\":\"C1\",\"email\":\"one@x.example\","
        "\"status\":\"replied\"}\n"
        /* line 2: no id, email of p-2 (other case) -> update p-2 */
        "{\"name\":\"New "
        "Two\",\"company\":\"C2\",\"email\":\"TWO@x.example\",\"status\":\"qualified\"}\n"
        /* line 3: no id, new email -> create */
        "{\"name\":\"Three\",\"company\":\"C3\",\"email\":\"three@x.example\"}\n"
        /* line 4: new id -> create */
        "{\"id\":\"p-4\",\"name\":\"Four\",\"company\":\"C4\"}\n";
    expect_result(import(NDJSON, body), 2, 2, "");
    json_t *one = get_prospect("p-1");
    cr_assert_str_eq(hr_jstr(one, "name"), "New One");
    cr_assert_str_eq(hr_jstr(one, "company"), "C1");
    cr_assert_str_eq(hr_jstr(one, "status"), "replied");
    json_t *two = get_prospect("p-2");
    cr_assert_str_eq(hr_jstr(two, "name"), "New Two", "email upsert did not update p-2: %s",
                     hr_jdump(two));
    cr_assert_str_eq(hr_jstr(two, "status"), "qualified");
    cr_assert_str_eq(hr_jstr(get_prospect("p-4"), "name"), "Four");
    find_one("three@x.example");
    cr_assert_eq(total(""), 4, "an upsert created a duplicate");
    /* the same file again: everything is an update now */
    expect_result(import(NDJSON, body), 0, 4, "");
    cr_assert_eq(total(""), 4);
}

Test(import, same_id_twice_in_one_file)
{
    expect_result(import(NDJSON, "{\"id\":\"p-dup\",\"name\":\"First\",\"company\":\"C\"}\n"
                                 "{\"id\":\"p-dup\",\"name\":\"Second\",\"company\":\"C\"}\n"),
                  1, 1, "");
    cr_assert_str_eq(hr_jstr(get_prospect("p-dup"), "name"), "Second");
    cr_assert_eq(total(""), 1);
}

Test(import, bad_rows_are_rejected_with_line_numbers_others_kept)
{
    const char *body =
        "{\"id\":\"p-g1\",\"name\":\"Good 1\",\"company\":\"C\"}\n"                 /* 1 */
        "{\"id\":\"p-b2\",\"name\":\n"                                              /* 2 */
        "{\"id\":\"p-b3\",\"name\":\"No company\"}\n"                               /* 3 */
        "{\"id\":\"p-g4\",\"name\":\"Good 4\",\"company\":\"C\"}\n"                 /* 4 */
        "{\"id\":\"p-b5\",\"name\":\"N\",\"company\":\"C\",\"colour\":\"red\"}\n"   /* 5 */
        "{\"id\":\"p-b6\",\"name\":\"N\",\"company\":\"C\",\"status\":\"bogus\"}\n" /* 6 */
        "{\"id\":\"p-g7\",\"name\":\"Good 7\",\"company\":\"C\"}\n"                 /* 7 */
        "[\"not\",\"an\",\"object\"]\n"                                             /* 8 */
        "{\"id\":\"p-b9\",\"name\":\"N\",\"company\":\"C\",\"lastContactDate\":\"2023-02-"
        "29\"}\n"                                                      /* 9 */
        "{\"id\":\"p-g10\",\"name\":\"Good 10\",\"company\":\"C\"}\n"; /* 10 */
    json_t *res = expect_result(import(NDJSON, body), 4, 0, "2 3 5 6 8 9");
    const char *e;
    e = rejection(res, 3);
    cr_expect(e && strstr(e, "company"), "line 3 error does not name company: %s", e);
    e = rejection(res, 5);
    cr_expect(e && strstr(e, "colour"), "line 5 error does not name colour: %s", e);
    e = rejection(res, 6);
    cr_expect(e && strstr(e, "status"), "line 6 error does not name status: %s", e);
    e = rejection(res, 9);
    cr_expect(e && strstr(e, "lastContactDate"), "line 9 error does not name lastContactDate: %s",
              e);
    const char *good[] = {"p-g1", "p-g4", "p-g7", "p-g10"};
    for (int i = 0; i < 4; i++) get_prospect(good[i]);
    const char *bad[] = {"p-b2", "p-b3", "p-b5", "p-b6", "p-b9"};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(hr_get(gw, hr_fmt("/api/prospects/%s", bad[i]))->status, 404,
                     "rejected %s was stored", bad[i]);
    cr_assert_eq(total(""), 4);
}

Test(import, row_taking_another_prospects_email_is_rejected)
{
    hr_must_create(
        gw, "/api/prospects",
        "{\"id\":\"p-owner\",\"name\":\"Owner\",\"company\":\"C\",\"email\":\"taken@x.example\"}");
    json_t *res =
        expect_result(import(NDJSON, "{\"id\":\"p-ok\",\"name\":\"OK\",\"company\":\"C\"}\n"
                                     "{\"id\":\"p-thief\",\"name\":\"Thief\",\"company\":\"C\","
                                     "\"email\":\"Taken@x.example\"}\n"),
                      1, 0, "2");
    cr_assert_not_null(rejection(res, 2));
    cr_assert_eq(hr_get(gw, "/api/prospects/p-thief")->status, 404);
    cr_assert_str_eq(hr_jstr(get_prospect("p-owner"), "name"), "Owner");
}

/* ---- CSV ---------------------------------------------------------------------------------- */

static const char *CSV_HEADER =
    "id,name,company,status,industry,lastContactDate,email,title,website\n";

Test(import, csv_quoting_commas_escaped_quotes_and_empty_cells)
{
    const char *body = hr_fmt(
        "%s"
        "p-c1,\"Bianchi, Zoe\",\"Blue \"\"Learning\"\" SA\",researching,Logistics,2024-02-29,"
        "zoe@blue.example,\"CTO, Founder\",https://blue.example/\n"
        "p-c2,Max Mustermann,Beispiel GmbH,new,,,,,\n"
        "p-c3,\"Émile Zola\",\"Éditions, \"\"Rougon\"\"\",contacted,\"Publishing\",,\"\",,\n",
        CSV_HEADER);
    expect_result(import(CSV, body), 3, 0, "");
    json_t *c1 = get_prospect("p-c1");
    cr_assert_str_eq(hr_jstr(c1, "name"), "Bianchi, Zoe");
    cr_assert_str_eq(hr_jstr(c1, "company"), "Blue \"Learning\" SA");
    cr_assert_str_eq(hr_jstr(c1, "title"), "CTO, Founder");
    cr_assert_str_eq(hr_jstr(c1, "lastContactDate"), "2024-02-29");
    cr_assert_str_eq(hr_jstr(c1, "website"), "https://blue.example/");
    cr_assert_str_eq(hr_jstr(c1, "status"), "researching");
    json_t *c2 = get_prospect("p-c2");
    const char *opt[] = {"industry", "lastContactDate", "email", "title", "website"};
    for (int i = 0; i < 5; i++)
        cr_assert(hr_jnull(c2, opt[i]), "empty cell %s is not null: %s", opt[i], hr_jdump(c2));
    json_t *c3 = get_prospect("p-c3");
    cr_assert_str_eq(hr_jstr(c3, "name"), "Émile Zola");
    cr_assert_str_eq(hr_jstr(c3, "company"), "Éditions, \"Rougon\"");
    cr_assert_str_eq(hr_jstr(c3, "industry"), "Publishing");
    cr_assert(hr_jnull(c3, "email"), "a quoted empty cell should be null too: %s", hr_jdump(c3));
}

Test(import, csv_with_crlf_line_ends)
{
    const char *body = "id,name,company,email\r\n"
                       "p-w1,Ada,Engines,ada@engines.example\r\n"
                       "p-w2,\"Alan\",\"Bletchley\",\r\n";
    expect_result(import(CSV, body), 2, 0, "");
    json_t *a = get_prospect("p-w1");
    cr_assert_str_eq(hr_jstr(a, "email"), "ada@engines.example", "trailing CR kept? %s",
                     hr_jdump(a));
    cr_assert_str_eq(hr_jstr(a, "company"), "Engines");
    json_t *b = get_prospect("p-w2");
    cr_assert(hr_jnull(b, "email"), "%s", hr_jdump(b));
}

Test(import, csv_columns_in_any_order_and_subset)
{
    const char *body = "email,company,name\n"
                       "x@y.example,Ycorp,Xavier\n";
    expect_result(import(CSV, body), 1, 0, "");
    json_t *p = find_one("x@y.example");
    cr_assert_str_eq(hr_jstr(p, "name"), "Xavier");
    cr_assert_str_eq(hr_jstr(p, "company"), "Ycorp");
    /* the same email without an id: an update */
    expect_result(import(CSV, "email,company,name\nX@Y.example,Ycorp,Xavier Two\n"), 0, 1, "");
    cr_assert_str_eq(hr_jstr(find_one("x@y.example"), "name"), "Xavier Two");
}

Test(import, csv_bad_rows_counted_from_the_header_line)
{
    const char *body = hr_fmt("%s"
                              "p-v2,Good Two,C,new,,,,,\n"              /* line 2 */
                              "p-v3,Bad Status,C,sleeping,,,,,\n"       /* line 3 */
                              "p-v4,Good Four,C,new,,2024-01-31,,,\n"   /* line 4 */
                              "p-v5,Bad Email,C,new,,,not-an-email,,\n" /* line 5 */
                              "p-v6,,C,new,,,,,\n"                      /* line 6: no name */
                              "p-v7,Good Seven,C,qualified,,,,,https://s.example\n", /* 7 */
                              CSV_HEADER);
    json_t *res = expect_result(import(CSV, body), 3, 0, "3 5 6");
    const char *e = rejection(res, 3);
    cr_expect(e && strstr(e, "status"), "line 3 error does not name status: %s", e);
    e = rejection(res, 5);
    cr_expect(e && strstr(e, "email"), "line 5 error does not name email: %s", e);
    get_prospect("p-v2");
    get_prospect("p-v4");
    get_prospect("p-v7");
    cr_assert_eq(hr_get(gw, "/api/prospects/p-v3")->status, 404);
    cr_assert_eq(total(""), 3);
}

Test(import, csv_row_with_wrong_cell_count_is_rejected)
{
    const char *body = "id,name,company\n"
                       "p-k2,Two,C\n"
                       "p-k3,Three\n"        /* too few cells */
                       "p-k4,Four,C,extra\n" /* too many */
                       "p-k5,Five,C\n";
    expect_result(import(CSV, body), 2, 0, "3 4");
    get_prospect("p-k2");
    get_prospect("p-k5");
}

Test(import, csv_unknown_column_is_400_and_imports_nothing)
{
    const char *body = "id,name,company,favourite_colour\n"
                       "p-u1,Ada,Engines,blue\n";
    hr_resp_t *r = import(CSV, body);
    hr_assert_problem(r, 400, "invalid-field", "favourite_colour");
    cr_assert_eq(total(""), 0, "rows of a refused file were imported");
}

Test(import, jsonl_media_type_is_accepted)
{
    hr_resp_t *r = import("Content-Type: application/jsonl",
                          "{\"id\":\"p-j1\",\"name\":\"A\",\"company\":\"B\"}\n");
    expect_result(r, 1, 0, "");
    get_prospect("p-j1");
}

Test(import, only_the_first_1000_rejections_are_listed_in_line_order)
{
    /* 1,200 bad rows (no company) around 5 good ones */
    size_t cap = 1300 * 64, len = 0;
    char *b = malloc(cap);
    for (int i = 1; i <= 1205; i++) {
        if (i % 241 == 0)
            len += (size_t)snprintf(b + len, cap - len,
                                    "{\"name\":\"Good %d\",\"company\":\"C\"}\n", i);
        else len += (size_t)snprintf(b + len, cap - len, "{\"name\":\"Bad %d\"}\n", i);
    }
    const char *body = hr_fmt("%s", b);
    free(b);
    hr_resp_t *r = import(NDJSON, body);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert_eq(hr_jint(j, "imported", -1), 5, "%.300s", r->body);
    cr_assert_eq(hr_jint(j, "rejected_total", -1), 1200, "rejected_total: %.300s", r->body);
    json_t *rej = json_object_get(j, "rejected");
    cr_assert_eq(json_array_size(rej), 1000, "listed %zu rejections", json_array_size(rej));
    long long prev = 0;
    size_t i;
    json_t *e;
    json_array_foreach(rej, i, e) {
        long long line = hr_jint(e, "line", -1);
        cr_assert_gt(line, prev, "rejections not in line order at %zu", i);
        cr_assert_neq(line % 241, 0, "a good line %lld was rejected", line);
        prev = line;
    }
    /* the first 1000 bad lines are 1..1004 minus the 4 good ones (241, 482, 723, 964) */
    cr_assert_eq(hr_jint(json_array_get(rej, 0), "line", -1), 1);
    cr_assert_eq(hr_jint(json_array_get(rej, 999), "line", -1), 1004);
    cr_assert_eq(total(""), 5);
}

Test(import, csv_empty_id_and_status_mean_not_given)
{
    hr_must_create(
        gw, "/api/prospects",
        "{\"id\":\"p-s1\",\"name\":\"Kept\",\"company\":\"C\",\"status\":\"qualified\"}");
    const char *body = "id,name,company,status,email\n"
                       ",New Person,C,,new.person@x.example\n" /* new id, default status */
                       "p-s1,Kept Renamed,C,,\n";              /* status unchanged */
    expect_result(import(CSV, body), 1, 1, "");
    json_t *np = find_one("new.person@x.example");
    const char *id = hr_jstr(np, "id");
    cr_assert(id && strncmp(id, "p-", 2) == 0 && strlen(id) == 28, "empty id cell: id %s", id);
    cr_assert_str_eq(hr_jstr(np, "status"), "new", "empty status on create: %s", hr_jdump(np));
    json_t *kept = get_prospect("p-s1");
    cr_assert_str_eq(hr_jstr(kept, "name"), "Kept Renamed");
    cr_assert_str_eq(hr_jstr(kept, "status"), "qualified", "empty status on update changed it: %s",
                     hr_jdump(kept));
}

/* ---- media types and limits --------------------------------------------------------------- */

Test(import, other_content_types_are_415)
{
    hr_assert_problem(
        import("Content-Type: application/json", "{\"name\":\"A\",\"company\":\"B\"}"), 415,
        "unsupported-media-type", NULL);
    hr_assert_problem(import("Content-Type: text/plain", "name,company\nA,B\n"), 415,
                      "unsupported-media-type", NULL);
    cr_assert_eq(total(""), 0);
}

Test(import, import_may_exceed_the_normal_body_limit)
{
    /* ~1.6 MiB of NDJSON: over MAX_BODY_BYTES (1 MiB) but well under IMPORT_MAX_BYTES */
    size_t rows = 8000;
    size_t cap = rows * 220 + 1;
    char *body = malloc(cap);
    size_t len = 0;
    for (size_t i = 0; i < rows; i++)
        len += (size_t)snprintf(body + len, cap - len,
                                "{\"id\":\"p-big-%05zu\",\"name\":\"Person %zu\",\"company\":"
                                "\"Company %zu\",\"email\":\"person%zu@big.example\",\"title\":"
                                "\"Head of Something Rather Long To Pad The Row A Bit\"}\n",
                                i, i, i % 97, i);
    cr_assert_gt(len, (size_t)1 << 20);
    const char *b = hr_fmt("%s", body);
    free(body);
    hr_resp_t *r = import(NDJSON, b);
    expect_result(r, (long long)rows, 0, "");
    cr_assert_eq(total(""), (long long)rows);
    cr_assert_str_eq(hr_jstr(get_prospect("p-big-07999"), "email"), "person7999@big.example");
}

static const char *rows_ndjson(int n)
{
    const char *s = "";
    for (int i = 0; i < n; i++) s = hr_fmt("%s{\"name\":\"R%d\",\"company\":\"C\"}\n", s, i);
    return s;
}

Test(import_limits, max_rows)
{
    expect_result(import(NDJSON, rows_ndjson(5)), 5, 0, "");
    hr_resp_t *r = import(NDJSON, rows_ndjson(6));
    hr_assert_problem(r, 413, "payload-too-large", NULL);
    cr_assert_eq(total(""), 5, "part of a refused import was stored");
    /* CSV: the header is not a row */
    expect_result(import(CSV, "name,company\nA,B\nC,D\nE,F\nG,H\nI,J\n"), 5, 0, "");
    hr_assert_problem(import(CSV, "name,company\nA,B\nC,D\nE,F\nG,H\nI,J\nK,L\n"), 413,
                      "payload-too-large", NULL);
}

Test(import_limits, max_bytes)
{
    /* 4 KiB limit: 3 rows padded with JSON whitespace to ~1.5 KiB each */
    char *big = malloc(6000);
    size_t len = 0;
    for (int i = 0; i < 3; i++) {
        len += (size_t)snprintf(big + len, 6000 - len, "{\"name\":\"R%d\",\"company\":\"C\"}", i);
        memset(big + len, ' ', 1500);
        len += 1500;
        big[len++] = '\n';
    }
    big[len] = '\0';
    const char *b = hr_fmt("%s", big);
    free(big);
    cr_assert_gt(strlen(b), 4096);
    hr_assert_problem(import(NDJSON, b), 413, "payload-too-large", NULL);
    cr_assert_eq(total(""), 0);
    /* just under the limit is fine */
    expect_result(import(NDJSON, rows_ndjson(2)), 2, 0, "");
}
