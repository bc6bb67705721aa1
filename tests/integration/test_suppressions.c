/* /api/suppressions against a real gateway running as the documented pa-gateway ACL user (so the
 * commands and keys it uses are the ones docs/redis-keys.md grants) and a real Redis: adding
 * domains and addresses as JSON and CSV, normalised (URLs to hosts, IDN to A-labels, lowercase),
 * with per-value rejections and dedup counts; listing with pagination and the kind filter;
 * removing (204, then 404); precise problems for bad requests; the Redis sets, metadata and
 * index hand-checked; and the form worker's documented user reading the sets but not writing
 * them. */
#include <criterion/criterion.h>
#include <string.h>

#include "acl_fixture.h"

static hr_redis_t *rd;
static hr_gateway_t *gw;
static pa_redis_t *adm;

#define GW_PW "gw-pw-for-tests"
#define S "/api/suppressions"

/* Redis (with a password), the pa-gateway user from the docs, the gateway as that user. */
static void start(const char *const *env)
{
    rd = af_redis_start();
    adm = af_admin(rd);
    af_acl_from_docs(adm, "pa-gateway", GW_PW);
    const char *e[8];
    size_t n = 0;
    e[n++] = hr_fmt("REDIS_URL=%s", af_user_url(rd, "pa-gateway", GW_PW));
    for (size_t i = 0; env && env[i] && n < 7; i++) e[n++] = env[i];
    e[n] = NULL;
    gw = hr_gateway_start(rd, e);
}

static void fini(void)
{
    pa_redis_destroy(&adm);
    hr_cleanup();
}

TestSuite(suppressions, .fini = fini, .timeout = 60);

static hr_resp_t *post_as(const char *ctype, const char *body)
{
    return hr_req(gw, "POST", S, (const char *[]){hr_fmt("Content-Type: %s", ctype), NULL}, body);
}

static hr_resp_t *del(const char *path)
{
    return hr_req(gw, "DELETE", path, NULL, NULL);
}

/* The answer of an add: status and counts as expected; returns its rejected array. */
static json_t *expect_added(hr_resp_t *r, long status, long long added, long long existing,
                            long long rejected)
{
    cr_assert_eq(r->status, status, "%s", hr_describe(r));
    json_t *j = hr_json(r);
    cr_assert(json_is_object(j), "%s", hr_describe(r));
    cr_assert_eq(hr_jint(j, "added", -1), added, "added: %s", hr_describe(r));
    cr_assert_eq(hr_jint(j, "existing", -1), existing, "existing: %s", hr_describe(r));
    cr_assert_eq(hr_jint(j, "rejected_total", -1), rejected, "rejected: %s", hr_describe(r));
    json_t *rej = json_object_get(j, "rejected");
    cr_assert(json_is_array(rej) && (long long)json_array_size(rej) == rejected, "%s",
              hr_describe(r));
    return rej;
}

/* Asserts rejection i: by line (line > 0) or field+index, its value (NULL: null) and that its
 * detail says want. */
static void expect_rejection(json_t *rej, size_t i, long line, const char *field, long index,
                             const char *value, const char *want)
{
    json_t *x = json_array_get(rej, i);
    cr_assert(json_is_object(x), "rejection %zu: %s", i, hr_jdump(rej));
    if (line > 0) {
        cr_assert_eq(hr_jint(x, "line", -1), line, "%s", hr_jdump(x));
    } else {
        cr_assert_str_eq(hr_jstr(x, "field") ? hr_jstr(x, "field") : "-", field, "%s", hr_jdump(x));
        cr_assert_eq(hr_jint(x, "index", -1), index, "%s", hr_jdump(x));
    }
    if (value) cr_assert_str_eq(hr_jstr(x, "value") ? hr_jstr(x, "value") : "-", value);
    else cr_assert(hr_jnull(x, "value"), "%s", hr_jdump(x));
    const char *d = hr_jstr(x, "detail");
    cr_assert(d && strstr(d, want), "detail of %s does not say '%s'", hr_jdump(x), want);
}

static int is_domain(const char *v)
{
    return (int)af_int(adm, "SISMEMBER pa:suppress:domains %s", v);
}

static int is_email(const char *v)
{
    return (int)af_int(adm, "SISMEMBER pa:suppress:emails %s", v);
}

/* The metadata of a value, parsed (harness-owned), NULL when there is none. */
static json_t *meta_of(const char *kind, const char *v)
{
    const char *m = af_str(adm, "HGET pa:suppress:meta %s:%s", kind, v);
    return m ? hr_jparse(m) : NULL;
}

Test(suppressions, json_values_are_normalised_stored_and_rejected_one_by_one)
{
    start(NULL);
    hr_resp_t *r =
        hr_post(gw, S,
                "{\"domains\":[\"https://www.Acme.Example:8443/contact?x=1\",\"bücher.example\","
                "\"127.0.0.1\",\"a_b.example\",\"globex.example.\",7,\"ada@x.example\"],"
                "\"emails\":[\"Ada@Analytical-Engines.Example\",\"nope\",\"bob@Bücher.example\","
                "\"mailto:Carl@acme.example\"],\"reason\":\"asked us to stop\"}");
    json_t *rej = expect_added(r, 201, 6, 0, 5);
    expect_rejection(rej, 0, 0, "domains", 2, "127.0.0.1", "IP address");
    expect_rejection(rej, 1, 0, "domains", 3, "a_b.example", "letters, digits");
    expect_rejection(rej, 2, 0, "domains", 5, NULL, "must be a string");
    expect_rejection(rej, 3, 0, "domains", 6, "ada@x.example", "e-mail address");
    expect_rejection(rej, 4, 0, "emails", 1, "nope", "name@example.com");
    /* the sets hold the normalised values, and nothing else */
    cr_assert(is_domain("www.acme.example"));
    cr_assert(is_domain("xn--bcher-kva.example"));
    cr_assert(is_domain("globex.example"));
    cr_assert_eq(af_int(adm, "SCARD pa:suppress:domains"), 3);
    cr_assert(is_email("ada@analytical-engines.example"));
    cr_assert(is_email("bob@xn--bcher-kva.example"));
    cr_assert(is_email("carl@acme.example"));
    cr_assert_eq(af_int(adm, "SCARD pa:suppress:emails"), 3);
    json_t *m = meta_of("domain", "www.acme.example");
    cr_assert(m, "no metadata");
    cr_assert_str_eq(hr_jstr(m, "reason"), "asked us to stop", "%s", hr_jdump(m));
    const char *added = hr_jstr(m, "added");
    cr_assert(added && strlen(added) == 24 && added[10] == 'T' && added[23] == 'Z', "%s",
              hr_jdump(m));
    cr_assert_eq(af_int(adm, "ZCARD pa:suppress:index"), 6);
    cr_assert_eq(af_int(adm, "ZSCORE pa:suppress:index domain:globex.example"), 0);
    /* again, with one more: the six are there already (their first metadata kept), the
     * repeated one in the same request counts once */
    r = hr_post(gw, S,
                "{\"domains\":[\"www.acme.example\",\"xn--bcher-kva.example\","
                "\"GLOBEX.example\",\"initech.example\",\"https://initech.example/\"],"
                "\"emails\":[\"ada@analytical-engines.example\",\"BOB@bücher.example\","
                "\"carl@acme.example\"]}");
    expect_added(r, 201, 1, 7, 0);
    cr_assert_str_eq(hr_jstr(meta_of("domain", "www.acme.example"), "added"), added);
    cr_assert_str_eq(hr_jstr(meta_of("domain", "www.acme.example"), "reason"), "asked us to stop");
    cr_assert_null(hr_jstr(meta_of("domain", "initech.example"), "reason"));
    /* nothing new: 200 */
    expect_added(hr_post(gw, S, "{\"emails\":[\"carl@acme.example\"]}"), 200, 0, 1, 0);
    /* one value, its kind inferred or given */
    expect_added(hr_post(gw, S, "{\"value\":\"https://Shop.Hooli.example/x\"}"), 201, 1, 0, 0);
    cr_assert(is_domain("shop.hooli.example"));
    expect_added(hr_post(gw, S, "{\"value\":\"Gavin@Hooli.example\",\"reason\":\"legal\"}"), 201, 1,
                 0, 0);
    cr_assert(is_email("gavin@hooli.example"));
    cr_assert_str_eq(hr_jstr(meta_of("email", "gavin@hooli.example"), "reason"), "legal");
    expect_added(hr_post(gw, S, "{\"value\":\"pied-piper.example\",\"kind\":\"domain\"}"), 201, 1,
                 0, 0);
}

Test(suppressions, csv_with_or_without_a_header_reports_rejections_by_line)
{
    start(NULL);
    /* a header in another order, a byte order mark, CRLF, a quoted reason with a comma, a blank
     * line, a bad kind, a wrong number of fields, a bad value */
    const char *csv = "\xef\xbb\xbfkind,value,reason\r\n"
                      ",globex.example,opt-out\r\n"
                      "domain,https://www.Initech.example/,\"legal, 2026\"\r\n"
                      "\r\n"
                      "email,X@Initech.example,unsubscribed\r\n"
                      "phone,+44 20 7946 0000,\r\n"
                      "domain,hooli.example\r\n"
                      ",bad value,\r\n"
                      "email,acme.example,\r\n";
    json_t *rej = expect_added(post_as("text/csv", csv), 201, 3, 0, 4);
    expect_rejection(rej, 0, 6, NULL, 0, "+44 20 7946 0000", "kind: must be domain or email");
    expect_rejection(rej, 1, 7, NULL, 0, "domain", "expected 3 fields, found 2");
    expect_rejection(rej, 2, 8, NULL, 0, "bad value", "blank");
    expect_rejection(rej, 3, 9, NULL, 0, "acme.example", "name@example.com");
    cr_assert(is_domain("globex.example"));
    cr_assert(is_domain("www.initech.example"));
    cr_assert(is_email("x@initech.example"));
    cr_assert_str_eq(hr_jstr(meta_of("domain", "www.initech.example"), "reason"), "legal, 2026");
    cr_assert_str_eq(hr_jstr(meta_of("email", "x@initech.example"), "reason"), "unsubscribed");
    /* no header: one value a line (kind inferred), or value,kind,reason */
    rej = expect_added(post_as("text/csv; charset=utf-8",
                               "globex.example\nfaß.de\nceo@globex.example,email,board\n"
                               "a,b,c,d\n"),
                       201, 2, 1, 1);
    expect_rejection(rej, 0, 4, NULL, 0, "a", "at most 3 fields");
    cr_assert(is_domain("xn--fa-hia.de"));
    cr_assert_str_eq(hr_jstr(meta_of("email", "ceo@globex.example"), "reason"), "board");
    /* a header naming an unknown column, or no value column */
    hr_resp_t *r = post_as("text/csv", "value,colour\nacme.example,red\n");
    hr_assert_problem(r, 400, "invalid-field", "header");
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "'colour'"), "%s", hr_describe(r));
    hr_assert_problem(post_as("text/csv", "value,value\nx.example,y.example\n"), 400,
                      "invalid-field", "header");
    hr_assert_problem(post_as("text/csv", "\n\n"), 400, "invalid-field", NULL);
    cr_assert_eq(af_int(adm, "SCARD pa:suppress:domains"), 3, "a refused CSV wrote something");
}

/* Walks GET path and its next pages (Link and next_cursor agree); returns every item. */
static json_t *all_pages(const char *path, size_t limit, int *pages)
{
    json_t *all = hr_jkeep(json_array());
    const char *url = path;
    *pages = 0;
    while (url) {
        cr_assert_lt(*pages, 1000, "the pages loop");
        hr_resp_t *r = hr_get(gw, url);
        cr_assert_eq(r->status, 200, "GET %s: %s", url, hr_describe(r));
        json_t *items = json_object_get(hr_json(r), "items");
        cr_assert(json_is_array(items), "%s", hr_describe(r));
        cr_assert_leq(json_array_size(items), limit, "%s", hr_describe(r));
        cr_assert_str_eq(hr_header(r, "X-Total-Count"),
                         hr_fmt("%lld", hr_jint(hr_json(r), "total", -1)));
        json_array_extend(all, items);
        (*pages)++;
        url = hr_link_next(r);
        const char *nc = hr_jstr(hr_json(r), "next_cursor");
        cr_assert((url == NULL) == (nc == NULL), "Link and next_cursor disagree: %s",
                  hr_describe(r));
        if (url) cr_assert(strstr(url, hr_urlenc(nc)), "the Link does not carry %s: %s", nc, url);
    }
    return all;
}

Test(suppressions, the_list_pages_through_each_kind_in_order)
{
    start(NULL);
    expect_added(hr_post(gw, S,
                         "{\"domains\":[\"e.example\",\"a.example\",\"d.example\",\"c.example\","
                         "\"b.example\"],\"emails\":[\"z@a.example\",\"y@a.example\","
                         "\"x@a.example\"],\"reason\":\"r\"}"),
                 201, 8, 0, 0);
    int pages;
    json_t *all = all_pages(S "?limit=2", 2, &pages);
    cr_assert_eq(json_array_size(all), 8, "%s", hr_jdump(all));
    cr_assert_eq(pages, 4);
    static const char *const order[][2] = {
        {"domain", "a.example"},  {"domain", "b.example"},  {"domain", "c.example"},
        {"domain", "d.example"},  {"domain", "e.example"},  {"email", "x@a.example"},
        {"email", "y@a.example"}, {"email", "z@a.example"},
    };
    for (size_t i = 0; i < 8; i++) {
        json_t *x = json_array_get(all, i);
        cr_assert_str_eq(hr_jstr(x, "kind"), order[i][0], "%s", hr_jdump(all));
        cr_assert_str_eq(hr_jstr(x, "value"), order[i][1], "%s", hr_jdump(all));
        cr_assert_str_eq(hr_jstr(x, "reason"), "r");
        cr_assert(hr_jstr(x, "added"), "%s", hr_jdump(x));
    }
    json_t *emails = all_pages(S "?kind=email&limit=2", 2, &pages);
    cr_assert_eq(json_array_size(emails), 3);
    cr_assert_eq(pages, 2);
    hr_resp_t *r = hr_get(gw, S "?kind=domain&limit=1000");
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_eq(json_array_size(json_object_get(hr_json(r), "items")), 5);
    cr_assert_eq(hr_jint(hr_json(r), "total", -1), 5);
    cr_assert(hr_jnull(hr_json(r), "next_cursor"));
    cr_assert_null(hr_header(r, "Link"));
    /* a page after an item removed meanwhile goes on after it */
    r = hr_get(gw, S "?kind=domain&limit=2");
    const char *next = hr_link_next(r);
    cr_assert(next);
    cr_assert_eq(del(S "/b.example")->status, 204);
    r = hr_get(gw, next);
    cr_assert_eq(r->status, 200, "%s", hr_describe(r));
    cr_assert_str_eq(hr_jstr(json_array_get(json_object_get(hr_json(r), "items"), 0), "value"),
                     "c.example", "%s", hr_describe(r));
    /* bad queries name their parameter */
    hr_assert_problem(hr_get(gw, S "?kind=phone"), 400, "invalid-field", "kind");
    hr_assert_problem(hr_get(gw, S "?limit=0"), 400, "invalid-field", "limit");
    hr_assert_problem(hr_get(gw, S "?limit=1001"), 400, "invalid-field", "limit");
    hr_assert_problem(hr_get(gw, S "?cursor=acme.example"), 400, "invalid-field", "cursor");
    hr_assert_problem(hr_get(gw, S "?kind=email&cursor=domain%3Aa.example"), 400, "invalid-field",
                      "cursor");
    hr_assert_problem(hr_get(gw, S "?sort=value"), 400, "invalid-field", "sort");
}

Test(suppressions, delete_removes_the_normalised_value_then_answers_404)
{
    start(NULL);
    expect_added(hr_post(gw, S,
                         "{\"domains\":[\"www.acme.example\",\"bücher.example\"],"
                         "\"emails\":[\"carl@acme.example\"]}"),
                 201, 3, 0, 0);
    /* by query, given as a URL in another case: the same normalisation as when added */
    hr_resp_t *r = del(S "?value="
                         "HTTPS%3A%2F%2FWWW.acme.example%2Fcontact");
    cr_assert_eq(r->status, 204, "%s", hr_describe(r));
    cr_assert_eq(r->len, 0);
    cr_assert_not(is_domain("www.acme.example"));
    cr_assert_null(meta_of("domain", "www.acme.example"), "its metadata stayed");
    cr_assert_eq(af_int(adm, "ZSCORE pa:suppress:index domain:www.acme.example"), -1,
                 "its index entry stayed");
    r = del(S "?value=www.acme.example");
    hr_assert_problem(r, 404, "not-found", NULL);
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "www.acme.example"), "%s", hr_describe(r));
    /* by path: an address percent-encoded or not, an IDN in UTF-8 */
    cr_assert_eq(del(S "/carl%40acme.example")->status, 204);
    cr_assert_not(is_email("carl@acme.example"));
    hr_assert_problem(del(S "/carl@acme.example"), 404, "not-found", NULL);
    cr_assert_eq(del(S "/B%C3%BCcher.example")->status, 204);
    cr_assert_eq(af_int(adm, "SCARD pa:suppress:domains"), 0);
    cr_assert_eq(af_int(adm, "ZCARD pa:suppress:index"), 0);
    /* bad requests */
    hr_assert_problem(del(S), 400, "invalid-field", "value");
    hr_assert_problem(del(S "?value=127.0.0.1"), 400, "invalid-field", "value");
    hr_assert_problem(del(S "?value=a.example&kind=fax"), 400, "invalid-field", "kind");
    hr_assert_problem(del(S "?value=ada%40a.example&kind=domain"), 400, "invalid-field", "value");
    hr_assert_problem(del(S "?v=a.example"), 400, "invalid-field", "v");
}

Test(suppressions, bad_bodies_get_precise_problems_and_write_nothing)
{
    start((const char *[]){"IMPORT_MAX_ROWS=5", "IMPORT_MAX_BYTES=2048", "MAX_BODY_BYTES=1024",
                           NULL});
    hr_assert_problem(post_as("text/plain", "acme.example"), 415, "unsupported-media-type", NULL);
    hr_assert_problem(post_as("application/x-ndjson", "\"acme.example\""), 415,
                      "unsupported-media-type", NULL);
    hr_assert_problem(hr_post(gw, S, "{\"domains\":[\"a.example\""), 400, "invalid-json", NULL);
    hr_assert_problem(hr_post(gw, S, "[\"a.example\"]"), 400, "invalid-field", NULL);
    hr_assert_problem(hr_post(gw, S, "{\"domains\":\"a.example\"}"), 400, "invalid-field",
                      "domains");
    hr_assert_problem(hr_post(gw, S, "{\"emails\":{\"a\":1}}"), 400, "invalid-field", "emails");
    hr_assert_problem(hr_post(gw, S, "{\"domain\":[\"a.example\"]}"), 400, "invalid-field",
                      "domain");
    hr_assert_problem(hr_post(gw, S, "{}"), 400, "invalid-field", "domains");
    hr_assert_problem(hr_post(gw, S, "{\"value\":\"a.example\",\"domains\":[]}"), 400,
                      "invalid-field", "value");
    hr_assert_problem(hr_post(gw, S, "{\"domains\":[],\"kind\":\"domain\"}"), 400, "invalid-field",
                      "kind");
    hr_assert_problem(hr_post(gw, S, "{\"value\":\"a.example\",\"kind\":\"fax\"}"), 400,
                      "invalid-field", "kind");
    hr_assert_problem(hr_post(gw, S, "{\"value\":42}"), 400, "invalid-field", "value");
    hr_resp_t *r = hr_post(gw, S, "{\"value\":\"ftp://a.example\"}");
    hr_assert_problem(r, 400, "invalid-field", "value");
    cr_assert(strstr(hr_jstr(hr_json(r), "detail"), "http or https"), "%s", hr_describe(r));
    hr_assert_problem(hr_post(gw, S, "{\"value\":\"a.example\",\"kind\":\"email\"}"), 400,
                      "invalid-field", "value");
    char reason[520];
    memset(reason, 'r', 501);
    reason[501] = '\0';
    hr_assert_problem(
        hr_post(gw, S, hr_fmt("{\"domains\":[\"a.example\"],\"reason\":\"%s\"}", reason)), 400,
        "invalid-field", "reason");
    hr_assert_problem(
        hr_post(gw, S,
                "{\"domains\":[\"a.example\",\"b.example\",\"c.example\"],\"emails\":["
                "\"a@a.example\",\"b@a.example\",\"c@a.example\"]}"),
        413, "payload-too-large", NULL);
    hr_assert_problem(post_as("text/csv", "a.example\nb.example\nc.example\nd.example\n"
                                          "e.example\nf.example\n"),
                      413, "payload-too-large", NULL);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hr_assert_problem(post_as("text/csv", big), 413, "payload-too-large", NULL);
    /* a JSON body has the JSON bound (MAX_BODY_BYTES, at least 1024: set below the import's) */
    hr_resp_t *jr = hr_post(gw, S, hr_fmt("{\"value\":\"a.example\",\"reason\":\"%.1500s\"}", big));
    hr_assert_problem(jr, 413, "payload-too-large", NULL);
    cr_assert(strstr(hr_jstr(hr_json(jr), "detail"), "MAX_BODY_BYTES"), "%s", hr_describe(jr));
    cr_assert_eq(af_int(adm, "EXISTS pa:suppress:domains pa:suppress:emails pa:suppress:meta "
                             "pa:suppress:index"),
                 0, "a refused request wrote something");
    /* the limits hold exactly: five values pass */
    expect_added(post_as("text/csv", "value\na.example\nb.example\nc.example\nd.example\n"
                                     "e.example\n"),
                 201, 5, 0, 0);
}

/* The form worker's documented user reads the suppression lists (SISMEMBER, SMISMEMBER) and its
 * own pa:form:* keys, and can neither change the lists nor read the prospect store. */
Test(suppressions, the_form_workers_acl_user_reads_the_lists_and_cannot_change_them)
{
    start(NULL);
    expect_added(hr_post(gw, S, "{\"domains\":[\"acme.example\"],\"emails\":[\"a@b.example\"]}"),
                 201, 2, 0, 0);
    af_acl_from_docs(adm, "pa-form-worker", "form-pw-1");
    char err[256];
    pa_redis_t *f =
        pa_redis_new(af_user_url(rd, "pa-form-worker", "form-pw-1"), 3000, err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    cr_assert_eq(af_int(f, "SISMEMBER pa:suppress:domains acme.example"), 1);
    redisReply *rep = af_cmd(f, "SMISMEMBER pa:suppress:domains www.acme.example acme.example");
    cr_assert(rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
                  rep->element[0]->integer == 0 && rep->element[1]->integer == 1,
              "SMISMEMBER answered type %d", rep->type);
    freeReplyObject(rep);
    cr_assert_eq(af_int(f, "SISMEMBER pa:suppress:emails a@b.example"), 1);
    cr_assert(af_noperm(f, "SADD pa:suppress:domains evil.example"), "it changed the list");
    cr_assert(af_noperm(f, "SREM pa:suppress:domains acme.example"), "it changed the list");
    cr_assert(af_noperm(f, "DEL pa:suppress:emails"), "it deleted the list");
    cr_assert(af_noperm(f, "HGETALL pa:prospect:p-1"), "it read the prospect store");
    rep = af_cmd(f, "SET pa:form:lock:https://acme.example x PX 1000 NX");
    cr_assert_eq(rep->type, REDIS_REPLY_STATUS, "SET pa:form:*: %s", rep->str ? rep->str : "?");
    freeReplyObject(rep);
    cr_assert_str_eq(af_str(f, "GET pa:form:lock:https://acme.example"), "x");
    cr_assert_eq(af_int(f, "ZADD pa:handoffs 1 j-1:000001"), 1, "commit.lua's hand-off index");
    pa_redis_destroy(&f);
    cr_assert_eq(af_int(adm, "SCARD pa:suppress:domains"), 1);
}
