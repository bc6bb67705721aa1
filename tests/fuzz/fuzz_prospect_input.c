/* libFuzzer target for prospect input: json_loadb, then gw_prospect_in_from_json and
 * gw_prospect_in_validate (update and create). Whatever is read must encode with
 * gw_prospect_in_to_json to JSON holding the same fields; whatever validates for a create must
 * make a record with gw_prospect_new whose rendered JSON parses back to the same values.
 * A leading space in the input (still JSON) turns on JSON_ALLOW_NUL, so NUL bytes in strings
 * reach validation too.
 *
 * Sources: this file, gateway/gw_prospect.c, common/pa_buf.c, common/pa_utf8.c (or an archive
 * of common/ objects); flags -Igateway -Icommon plus the cflags of jansson; libs jansson and
 * pthread. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_prospect.h"
#include "pa_buf.h"
#include "pa_utf8.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_prospect_input: check failed: %s: ", #cond);                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void check_to_json(const json_t *obj, const gw_prospect_in_t *in)
{
    char *out = gw_prospect_in_to_json(in);
    json_error_t e;
    json_t *back = json_loads(out, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
    CHECK(back && json_is_object(back), "to_json gave no JSON object (%s): %.200s", e.text, out);
    size_t present = 0;
    for (int f = 0; f < GW_F_COUNT; f++) {
        const json_t *v = json_object_get(back, gw_field_names[f]);
        if (!in->present[f]) {
            CHECK(!v, "absent %s encoded", gw_field_names[f]);
            continue;
        }
        present++;
        CHECK(json_equal((json_t *)v, json_object_get(obj, gw_field_names[f])),
              "%s changed on the way through to_json", gw_field_names[f]);
    }
    CHECK(json_object_size(back) == present, "%zu members for %zu present fields",
          json_object_size(back), present);
    json_decref(back);
    free(out);
}

static void check_record(const gw_prospect_in_t *in)
{
    char *vals[GW_F_COUNT] = {0};
    for (int f = 0; f < GW_F_COUNT; f++)
        if (in->present[f] == 2) vals[f] = dup_n(in->val[f], in->len[f]);
    if (!vals[GW_F_STATUS]) vals[GW_F_STATUS] = dup_n("new", 3);
    char *id = in->id ? dup_n(in->id, in->id_len) : dup_n("p-fuzz", 6);
    gw_prospect_t *p = gw_prospect_new(id, (const char *const *)vals);
    CHECK(p, "a valid create input makes no record");
    CHECK(strcmp(p->id, id) == 0, "id");
    CHECK(strcmp(gw_status_names[p->status], vals[GW_F_STATUS]) == 0, "status");
    CHECK(p->hay_len == strlen(p->hay), "NUL inside the search text");
    CHECK(!vals[GW_F_INDUSTRY] == !p->industry_key, "industry key");
    json_error_t e;
    json_t *j = json_loadb(p->json, p->json_len, JSON_REJECT_DUPLICATES, &e);
    CHECK(j && json_is_object(j), "record JSON does not parse (%s): %.200s", e.text, p->json);
    CHECK(json_object_size(j) == 1 + GW_F_COUNT, "record JSON has %zu members",
          json_object_size(j));
    CHECK(strcmp(json_string_value(json_object_get(j, "id")), id) == 0, "record JSON id");
    for (int f = 0; f < GW_F_COUNT; f++) {
        const json_t *v = json_object_get(j, gw_field_names[f]);
        if (vals[f]) {
            CHECK(json_is_string(v) && strcmp(json_string_value(v), vals[f]) == 0 &&
                      strcmp(p->f[f], vals[f]) == 0,
                  "record %s", gw_field_names[f]);
        } else {
            CHECK(json_is_null(v) && !p->f[f], "record %s should be null", gw_field_names[f]);
        }
    }
    /* the search text is the folded name, company and email */
    pa_buf_t want = PA_BUF_INIT;
    const int hay_fields[] = {GW_F_NAME, GW_F_COMPANY, GW_F_EMAIL};
    for (int k = 0; k < 3; k++) {
        if (k) pa_buf_putc(&want, '\n');
        if (vals[hay_fields[k]])
            pa_utf8_fold(vals[hay_fields[k]], strlen(vals[hay_fields[k]]), &want);
    }
    CHECK(want.len == p->hay_len && memcmp(want.data, p->hay, want.len) == 0, "search text");
    pa_buf_free(&want);
    json_decref(j);
    free(p);
    free(id);
    for (int f = 0; f < GW_F_COUNT; f++) free(vals[f]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t flags = JSON_REJECT_DUPLICATES;
    if (size && data[0] == ' ') flags |= JSON_ALLOW_NUL;
    json_error_t e;
    json_t *obj = json_loadb((const char *)data, size, flags, &e);
    if (!obj) return 0;
    gw_prospect_in_t in;
    char field[64], err[256];
    memset(field, 0x55, sizeof field);
    if (gw_prospect_in_from_json(obj, &in, field, err, sizeof err) < 0) {
        CHECK(memchr(field, '\0', sizeof field), "field name not terminated");
        CHECK(err[0], "no message");
        CHECK(!json_is_object(obj) || field[0] || json_object_get(obj, ""), "no field named");
        json_decref(obj);
        return 0;
    }
    CHECK(json_is_object(obj), "a non-object was read");
    check_to_json(obj, &in);
    int ok_update = gw_prospect_in_validate(&in, 0, field, err, sizeof err) == 0;
    if (!ok_update) CHECK(field[0] && err[0], "an update refused without naming the field");
    int ok_create = gw_prospect_in_validate(&in, 1, field, err, sizeof err) == 0;
    if (!ok_create) CHECK(field[0] && err[0], "a create refused without naming the field");
    CHECK(!ok_create || ok_update, "valid for a create but not for an update");
    if (ok_create) check_record(&in);
    json_decref(obj);
    return 0;
}
