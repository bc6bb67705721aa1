/* Prospect records: validation of input fields, the immutable in-memory record, its JSON. */
#ifndef GW_PROSPECT_H
#define GW_PROSPECT_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_text.h"

#define GW_STATUS_COUNT 6
extern const char *const gw_status_names[GW_STATUS_COUNT];

enum {
    GW_F_NAME,
    GW_F_COMPANY,
    GW_F_STATUS,
    GW_F_INDUSTRY,
    GW_F_LASTCONTACT,
    GW_F_EMAIL,
    GW_F_TITLE,
    GW_F_WEBSITE,
    GW_F_COUNT
};
extern const char *const gw_field_names[GW_F_COUNT];

/* Input as given: each field absent, null, or a value (borrowed from the parsed JSON/CSV). */
typedef struct {
    const char *id; /* NULL when absent */
    size_t id_len;
    uint8_t present[GW_F_COUNT]; /* 0 absent, 1 null, 2 value */
    const char *val[GW_F_COUNT];
    size_t len[GW_F_COUNT];
} gw_prospect_in_t;

/* Fills in from a JSON object. On error returns -1, names the field in field (64 bytes) and
 * says what is wrong in err. Unknown members are errors. */
int gw_prospect_in_from_json(const json_t *obj, gw_prospect_in_t *in, char *field, char *err,
                             size_t errlen);
/* Checks each present value; for a new record also that name and company are given. */
int gw_prospect_in_validate(const gw_prospect_in_t *in, int creating, char *field, char *err,
                            size_t errlen);
int gw_status_index(const char *s, size_t n);
/* Encodes the present fields as a JSON object (null for cleared fields) for the Lua script. */
char *gw_prospect_in_to_json(const gw_prospect_in_t *in);

/* One stored prospect, immutable once made; all strings live in the same allocation. */
typedef struct gw_prospect {
    const char *id;
    const char *f[GW_F_COUNT]; /* NULL when null; f[GW_F_STATUS] is never NULL */
    uint8_t status;            /* index into gw_status_names */
    const char *json;          /* rendered API object */
    uint32_t json_len;
    const char *hay; /* case-folded "name\ncompany\nemail" for search */
    uint32_t hay_len;
    const char *industry_key; /* case-folded industry, or NULL */
} gw_prospect_t;

/* Builds a record from a JSON object in the store's format (as written by the Lua scripts or
 * read from a Redis hash). NULL when id is invalid or status unknown. Free with free(). */
gw_prospect_t *gw_prospect_new(const char *id, const char *const vals[GW_F_COUNT]);
gw_prospect_t *gw_prospect_from_doc(const json_t *doc);

#endif
