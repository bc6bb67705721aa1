/* The OpenAPI document served at /api/openapi.json describes every route the gateway has, and
 * no route it does not have. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "gw_routes.h"

extern const char pa_openapi_json[];
extern const size_t pa_openapi_json_len;

static json_t *load_doc(void)
{
    json_error_t e;
    json_t *doc = json_loadb(pa_openapi_json, pa_openapi_json_len, 0, &e);
    cr_assert_not_null(doc, "docs/openapi.json does not parse: line %d: %s", e.line, e.text);
    return doc;
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

Test(openapi, is_openapi_3_1)
{
    json_t *doc = load_doc();
    cr_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    cr_assert(json_is_object(json_object_get(doc, "paths")));
    json_decref(doc);
}

Test(openapi, every_route_is_documented)
{
    json_t *doc = load_doc(), *paths = json_object_get(doc, "paths");
    size_t n;
    const gw_route_t *rt = gw_routes(&n);
    cr_assert_gt(n, 10);
    for (size_t i = 0; i < n; i++) {
        char m[16];
        lower(rt[i].method, m, sizeof m);
        json_t *item = json_object_get(paths, rt[i].path);
        cr_expect_not_null(item, "route %s %s is missing from docs/openapi.json", rt[i].method,
                           rt[i].path);
        if (item)
            cr_expect_not_null(json_object_get(item, m),
                               "operation %s %s is missing from docs/openapi.json", rt[i].method,
                               rt[i].path);
    }
    json_decref(doc);
}

Test(openapi, documents_no_route_that_does_not_exist)
{
    static const char *methods[] = {"get", "post", "put", "patch", "delete"};
    json_t *doc = load_doc(), *paths = json_object_get(doc, "paths"), *item;
    const char *path;
    size_t n;
    const gw_route_t *rt = gw_routes(&n);
    json_object_foreach(paths, path, item) {
        for (size_t k = 0; k < 5; k++) {
            if (!json_object_get(item, methods[k])) continue;
            int found = 0;
            for (size_t i = 0; i < n; i++) {
                char m[16];
                lower(rt[i].method, m, sizeof m);
                found |= strcmp(rt[i].path, path) == 0 && strcmp(m, methods[k]) == 0;
            }
            cr_expect(found, "docs/openapi.json documents %s %s, which the gateway lacks",
                      methods[k], path);
        }
    }
    json_decref(doc);
}
