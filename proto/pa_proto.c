/* The wire codec: descriptors built from the table in pa_proto.h, a bounded msgpack reader for
 * decoding, and a msgpack-c packer for encoding; both sides run the same field checks. */
#include "pa_proto.h"
#include "pa_proto_internal.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_mem.h"
#include "pa_utf8.h"

/* ---- Descriptors, generated from the table ---- */

#define PRESENCE_REQ true
#define PRESENCE_OPT false

#define FIELD_DESC(M_, ID_, NAME_, TYPE_, PRES_, LO_, HI_)                                         \
    {NAME_, PA_PROTO_##TYPE_, PRESENCE_##PRES_, (LO_), (HI_)},
#define MSG_FIELDS(N_, C_)                                                                         \
    static const pa_proto_field_desc_t fields_##N_[] = {PA_PROTO_FIELDS_##N_(FIELD_DESC, N_)};     \
    _Static_assert(sizeof fields_##N_ / sizeof fields_##N_[0] <= PA_PROTO_MAX_FIELDS,              \
                   "too many fields in " #N_);                                                     \
    _Static_assert((C_) > 0 && (C_) <= 0xff, "command code of " #N_ " is not 1..255");
PA_PROTO_COMMANDS(MSG_FIELDS)

#define MSG_DESC(N_, C_) {(C_), #N_, fields_##N_, sizeof fields_##N_ / sizeof fields_##N_[0]},
static const pa_proto_msg_desc_t messages[] = {PA_PROTO_COMMANDS(MSG_DESC)};

const pa_proto_msg_desc_t *pa_proto_msg_desc(unsigned code)
{
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        if (messages[i].code == code) return &messages[i];
    return NULL;
}

const char *pa_proto_cmd_name(unsigned code)
{
    const pa_proto_msg_desc_t *d = pa_proto_msg_desc(code);
    return d ? d->name : NULL;
}

const char *pa_proto_type_name(pa_proto_type_t type)
{
    switch (type) {
    case PA_PROTO_STR: return "str";
    case PA_PROTO_UINT: return "uint";
    case PA_PROTO_INT: return "int";
    case PA_PROTO_BOOL: return "bool";
    case PA_PROTO_BIN: return "bin";
    case PA_PROTO_ANY: return "any";
    }
    return "?";
}

/* ---- Errors ---- */

/* Writes "<msg>: <text>" (or just the text when msg is NULL) into err; returns -1. */
__attribute__((format(printf, 4, 5))) static int errf(char *err, size_t errlen, const char *msg,
                                                      const char *fmt, ...)
{
    if (!err || !errlen) return -1;
    int k = msg ? snprintf(err, errlen, "%s: ", msg) : 0;
    if (k < 0 || (size_t)k >= errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

/* A field name from the wire, made safe to print: at most 32 bytes, non-printable bytes, quotes
 * and backslashes as \xNN. out needs 32 * 4 + 4 bytes. */
#define SAFE_NAME_MAX 32
#define SAFE_NAME_LEN (SAFE_NAME_MAX * 4 + 4)
static void safe_name(const unsigned char *p, size_t n, char out[SAFE_NAME_LEN])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && i < SAFE_NAME_MAX; i++) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (n > SAFE_NAME_MAX) out[o++] = '.', out[o++] = '.', out[o++] = '.';
    out[o] = '\0';
}

_Noreturn static void misuse(const char *what, unsigned f, const pa_msg_t *m);

/* ---- Messages ---- */

typedef struct {
    bool set;
    union {
        uint64_t u;
        int64_t i;
        bool b;
        struct {
            unsigned char *p; /* always n + 1 bytes, NUL-terminated */
            size_t n;
        } bytes;
    } v;
} value_t;

struct pa_msg {
    const pa_proto_msg_desc_t *desc;
    value_t vals[];
};

pa_msg_t *pa_msg__new_desc(const pa_proto_msg_desc_t *d)
{
    pa_msg_t *m = pa_calloc(1, sizeof *m + d->nfields * sizeof m->vals[0]);
    m->desc = d;
    return m;
}

pa_msg_t *pa_msg_new(pa_cmd_t cmd)
{
    const pa_proto_msg_desc_t *d = pa_proto_msg_desc((unsigned)cmd);
    if (!d) misuse("pa_msg_new: unknown command", (unsigned)cmd, NULL);
    return pa_msg__new_desc(d);
}

static int is_bytes(pa_proto_type_t t)
{
    return t == PA_PROTO_STR || t == PA_PROTO_BIN || t == PA_PROTO_ANY;
}

static void value_clear(const pa_proto_field_desc_t *fd, value_t *v)
{
    if (v->set && is_bytes(fd->type)) free(v->v.bytes.p);
    memset(v, 0, sizeof *v);
}

void pa_msg_destroy(pa_msg_t **mp)
{
    if (!mp || !*mp) return;
    pa_msg_t *m = *mp;
    for (size_t i = 0; i < m->desc->nfields; i++) value_clear(&m->desc->fields[i], &m->vals[i]);
    free(m);
    *mp = NULL;
}

pa_cmd_t pa_msg_cmd(const pa_msg_t *m)
{
    return (pa_cmd_t)m->desc->code;
}

const char *pa_msg_name(const pa_msg_t *m)
{
    return m->desc->name;
}

_Noreturn static void misuse(const char *what, unsigned f, const pa_msg_t *m)
{
    fprintf(stderr, "pa_proto: %s (field or command 0x%x, message %s)\n", what, f,
            m ? m->desc->name : "-");
    abort();
}

/* The slot of field f in m; aborts when f is not a field of m's command. */
static size_t slot_of(const pa_msg_t *m, pa_field_t f)
{
    unsigned code = (unsigned)f >> 8, idx = (unsigned)f & 0xff;
    if (code != m->desc->code || idx >= m->desc->nfields)
        misuse("field does not belong to this message", (unsigned)f, m);
    return idx;
}

static value_t *typed_slot(const pa_msg_t *m, pa_field_t f, pa_proto_type_t t)
{
    size_t i = slot_of(m, f);
    if (m->desc->fields[i].type != t) misuse("field has another type", (unsigned)f, m);
    return (value_t *)&m->vals[i];
}

int pa_msg_has(const pa_msg_t *m, pa_field_t f)
{
    return m->vals[slot_of(m, f)].set;
}

void pa_msg_unset(pa_msg_t *m, pa_field_t f)
{
    size_t i = slot_of(m, f);
    value_clear(&m->desc->fields[i], &m->vals[i]);
}

static void set_bytes(pa_msg_t *m, pa_field_t f, pa_proto_type_t t, const void *p, size_t n)
{
    value_t *v = typed_slot(m, f, t);
    unsigned char *copy = pa_malloc(n + 1);
    if (n) memcpy(copy, p, n);
    copy[n] = '\0';
    value_clear(&m->desc->fields[slot_of(m, f)], v);
    v->set = true;
    v->v.bytes.p = copy;
    v->v.bytes.n = n;
}

void pa_msg_set_strn(pa_msg_t *m, pa_field_t f, const char *s, size_t n)
{
    set_bytes(m, f, PA_PROTO_STR, s, n);
}

void pa_msg_set_str(pa_msg_t *m, pa_field_t f, const char *s)
{
    if (!s) {
        (void)typed_slot(m, f, PA_PROTO_STR);
        pa_msg_unset(m, f);
        return;
    }
    set_bytes(m, f, PA_PROTO_STR, s, strlen(s));
}

void pa_msg_set_bin(pa_msg_t *m, pa_field_t f, const void *p, size_t n)
{
    set_bytes(m, f, PA_PROTO_BIN, p, n);
}

void pa_msg_set_any(pa_msg_t *m, pa_field_t f, const void *p, size_t n)
{
    set_bytes(m, f, PA_PROTO_ANY, p, n);
}

void pa_msg_set_uint(pa_msg_t *m, pa_field_t f, uint64_t x)
{
    value_t *v = typed_slot(m, f, PA_PROTO_UINT);
    v->set = true;
    v->v.u = x;
}

void pa_msg_set_int(pa_msg_t *m, pa_field_t f, int64_t x)
{
    value_t *v = typed_slot(m, f, PA_PROTO_INT);
    v->set = true;
    v->v.i = x;
}

void pa_msg_set_bool(pa_msg_t *m, pa_field_t f, bool x)
{
    value_t *v = typed_slot(m, f, PA_PROTO_BOOL);
    v->set = true;
    v->v.b = x;
}

static const unsigned char *get_bytes(const pa_msg_t *m, pa_field_t f, pa_proto_type_t t,
                                      size_t *len)
{
    const value_t *v = typed_slot(m, f, t);
    if (len) *len = v->set ? v->v.bytes.n : 0;
    return v->set ? v->v.bytes.p : NULL;
}

const char *pa_msg_str(const pa_msg_t *m, pa_field_t f, size_t *len)
{
    return (const char *)get_bytes(m, f, PA_PROTO_STR, len);
}

const unsigned char *pa_msg_bin(const pa_msg_t *m, pa_field_t f, size_t *len)
{
    return get_bytes(m, f, PA_PROTO_BIN, len);
}

const unsigned char *pa_msg_any(const pa_msg_t *m, pa_field_t f, size_t *len)
{
    return get_bytes(m, f, PA_PROTO_ANY, len);
}

uint64_t pa_msg_uint(const pa_msg_t *m, pa_field_t f)
{
    const value_t *v = typed_slot(m, f, PA_PROTO_UINT);
    return v->set ? v->v.u : 0;
}

int64_t pa_msg_int(const pa_msg_t *m, pa_field_t f)
{
    const value_t *v = typed_slot(m, f, PA_PROTO_INT);
    return v->set ? v->v.i : 0;
}

bool pa_msg_bool(const pa_msg_t *m, pa_field_t f)
{
    const value_t *v = typed_slot(m, f, PA_PROTO_BOOL);
    return v->set ? v->v.b : false;
}

int pa_msg_equal(const pa_msg_t *a, const pa_msg_t *b)
{
    if (a->desc != b->desc) return 0;
    for (size_t i = 0; i < a->desc->nfields; i++) {
        const value_t *x = &a->vals[i], *y = &b->vals[i];
        if (x->set != y->set) return 0;
        if (!x->set) continue;
        switch (a->desc->fields[i].type) {
        case PA_PROTO_UINT:
            if (x->v.u != y->v.u) return 0;
            break;
        case PA_PROTO_INT:
            if (x->v.i != y->v.i) return 0;
            break;
        case PA_PROTO_BOOL:
            if (x->v.b != y->v.b) return 0;
            break;
        case PA_PROTO_STR:
        case PA_PROTO_BIN:
        case PA_PROTO_ANY:
            if (x->v.bytes.n != y->v.bytes.n ||
                memcmp(x->v.bytes.p, y->v.bytes.p, x->v.bytes.n) != 0)
                return 0;
            break;
        }
    }
    return 1;
}

/* ---- The reader ----
 * msgpack over a byte range, written for hostile input: every length and count is compared with
 * the bytes that remain before it is used, nothing is allocated, and nesting is bounded, so the
 * recursion is too. (msgpack-c's unpacker is not used because it allocates count * sizeof(object)
 * straight from an array header: 5 bytes could ask for gigabytes.) */

typedef enum { K_NIL, K_BOOL, K_UINT, K_NINT, K_FLOAT, K_STR, K_BIN, K_ARRAY, K_MAP, K_EXT } kind_t;
static const char *const kind_names[] = {"nil", "bool", "uint",  "int", "float",
                                         "str", "bin",  "array", "map", "ext"};

typedef struct {
    kind_t kind;
    size_t off;             /* where the value starts in the body */
    uint64_t u;             /* K_UINT: the value; K_ARRAY, K_MAP: the element count */
    int64_t i;              /* K_NINT: the value (always < 0) */
    bool b;                 /* K_BOOL */
    const unsigned char *p; /* K_STR, K_BIN, K_EXT: the payload */
    size_t n;               /* and its length */
} tok_t;

typedef struct {
    const unsigned char *p;
    size_t len, pos; /* pos <= len always */
    const char *msg; /* message name, for errors */
    char *err;
    size_t errlen;
} rd_t;

static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

static int truncated(rd_t *r, const tok_t *t)
{
    return errf(r->err, r->errlen, r->msg, "body truncated at offset %zu", t->off);
}

/* Reads the next token; for str, bin and ext it also takes the payload, for array and map only
 * the header (after checking that the remaining bytes can hold that many elements). Long on
 * purpose: one switch over msgpack's format bytes, in the specification's order, so that each
 * case can be checked against it line by line. */
static int rd_token(rd_t *r, tok_t *t)
{
    memset(t, 0, sizeof *t);
    t->off = r->pos;
    if (r->pos >= r->len) return truncated(r, t);
    unsigned c = r->p[r->pos++];
    size_t lenlen = 0; /* bytes of the length (str, bin, ext) or count (array, map) field */
    size_t fixed = 0;  /* payload size known from the type byte (floats, ints, fixext) */

    if (c <= 0x7f) {
        t->kind = K_UINT, t->u = c;
        return 0;
    }
    if (c >= 0xe0) {
        t->kind = K_NINT, t->i = (int64_t)c - 256;
        return 0;
    }
    if ((c & 0xe0) == 0xa0) {
        t->kind = K_STR, t->n = c & 0x1f;
        goto payload;
    }
    if ((c & 0xf0) == 0x90 || (c & 0xf0) == 0x80) {
        t->kind = (c & 0xf0) == 0x90 ? K_ARRAY : K_MAP, t->u = c & 0x0f;
        goto container;
    }
    switch (c) {
    case 0xc0: t->kind = K_NIL; return 0;
    case 0xc2:
    case 0xc3: t->kind = K_BOOL, t->b = c == 0xc3; return 0;
    case 0xc4:
    case 0xc5:
    case 0xc6: t->kind = K_BIN, lenlen = (size_t)1 << (c - 0xc4); break;
    case 0xc7:
    case 0xc8:
    case 0xc9: t->kind = K_EXT, lenlen = (size_t)1 << (c - 0xc7); break;
    case 0xca: t->kind = K_FLOAT, fixed = 4; break;
    case 0xcb: t->kind = K_FLOAT, fixed = 8; break;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: t->kind = K_UINT, fixed = (size_t)1 << (c - 0xcc); break;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: t->kind = K_NINT, fixed = (size_t)1 << (c - 0xd0); break;
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        t->kind = K_EXT, fixed = 1 + ((size_t)1 << (c - 0xd4)); /* type byte + data */
        break;
    case 0xd9:
    case 0xda:
    case 0xdb: t->kind = K_STR, lenlen = (size_t)1 << (c - 0xd9); break;
    case 0xdc:
    case 0xdd: t->kind = K_ARRAY, lenlen = (size_t)2 << (c - 0xdc); break;
    case 0xde:
    case 0xdf: t->kind = K_MAP, lenlen = (size_t)2 << (c - 0xde); break;
    default: /* 0xc1, the one byte msgpack never uses */
        return errf(r->err, r->errlen, r->msg, "invalid msgpack byte 0x%02x at offset %zu", c,
                    t->off);
    }

    if (fixed) {
        if (r->len - r->pos < fixed) return truncated(r, t);
        const unsigned char *q = r->p + r->pos;
        r->pos += fixed;
        if (t->kind == K_UINT) {
            t->u = be(q, fixed);
        } else if (t->kind == K_NINT) {
            /* Two's complement of 1..8 bytes, sign-extended without shifting into the sign. */
            uint64_t raw = be(q, fixed);
            int neg = (q[0] & 0x80) != 0;
            if (!neg) {
                t->kind = K_UINT, t->u = raw;
            } else if (fixed == 8) {
                t->i = raw == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)(~raw + 1);
            } else {
                t->i = (int64_t)raw - (int64_t)((uint64_t)1 << (8 * fixed));
            }
        } else if (t->kind == K_EXT) {
            t->p = q + 1, t->n = fixed - 1;
        }
        return 0;
    }

    if (r->len - r->pos < lenlen) return truncated(r, t);
    uint64_t n = be(r->p + r->pos, lenlen);
    r->pos += lenlen;
    if (t->kind == K_ARRAY || t->kind == K_MAP) {
        t->u = n;
        goto container;
    }
    if (t->kind == K_EXT) {
        if (r->pos >= r->len) return truncated(r, t);
        r->pos++; /* the ext type byte */
    }
    t->n = (size_t)n; /* n < 2^32 */

payload:
    if (r->len - r->pos < t->n)
        return errf(r->err, r->errlen, r->msg,
                    "body truncated: %s at offset %zu declares %zu bytes, %zu left",
                    kind_names[t->kind], t->off, t->n, r->len - r->pos);
    t->p = r->p + r->pos;
    r->pos += t->n;
    return 0;

container:
    /* Every element takes at least one byte (a map entry two), so a count the rest of the body
     * cannot hold is refused here, before anyone loops or allocates on it. */
    if (t->u > (r->len - r->pos) / (t->kind == K_MAP ? 2 : 1))
        return errf(r->err, r->errlen, r->msg,
                    "body truncated: %s at offset %zu declares %" PRIu64 " %s, %zu bytes left",
                    kind_names[t->kind], t->off, t->u, t->kind == K_MAP ? "entries" : "elements",
                    r->len - r->pos);
    return 0;
}

/* Checks that one well-formed value starts at r->pos and steps over it. level is the number of
 * maps and arrays that enclose it. */
static int walk(rd_t *r, unsigned level)
{
    tok_t t;
    if (rd_token(r, &t) < 0) return -1;
    if (t.kind != K_ARRAY && t.kind != K_MAP) return 0;
    if (level + 1 > PA_PROTO_MAX_DEPTH)
        return errf(r->err, r->errlen, r->msg, "nesting deeper than %d", PA_PROTO_MAX_DEPTH);
    uint64_t n = t.kind == K_MAP ? t.u * 2 : t.u; /* t.u < 2^32: no overflow */
    for (uint64_t k = 0; k < n; k++)
        if (walk(r, level + 1) < 0) return -1;
    return 0;
}

/* ---- Field checks, shared by the decoder and the encoder ---- */

typedef struct {
    bool neg; /* UINT, INT: the value is i (< 0), else u */
    uint64_t u;
    int64_t i;
    bool b;
    const unsigned char *p; /* STR, BIN, ANY */
    size_t n;
} view_t;

static int check_value(const pa_proto_msg_desc_t *d, const pa_proto_field_desc_t *fd,
                       const view_t *v, char *err, size_t errlen)
{
    switch (fd->type) {
    case PA_PROTO_STR:
    case PA_PROTO_BIN:
    case PA_PROTO_ANY:
        if (fd->min > 0 && v->n < (uint64_t)fd->min) {
            if (fd->min == 1) return errf(err, errlen, d->name, "field '%s' is empty", fd->name);
            return errf(err, errlen, d->name, "field '%s' shorter than %" PRId64 " bytes", fd->name,
                        fd->min);
        }
        if (v->n > fd->max)
            return errf(err, errlen, d->name, "field '%s' longer than %" PRIu64 " bytes", fd->name,
                        fd->max);
        if (fd->type == PA_PROTO_STR && !pa_utf8_valid((const char *)v->p, v->n))
            return errf(err, errlen, d->name, "field '%s' is not valid UTF-8 or contains NUL",
                        fd->name);
        return 0;
    case PA_PROTO_UINT:
    case PA_PROTO_INT: {
        bool ok;
        if (v->neg) ok = fd->type == PA_PROTO_INT && v->i >= fd->min;
        else
            ok = (fd->min <= 0 || v->u >= (uint64_t)fd->min) && v->u <= fd->max &&
                 (fd->type == PA_PROTO_UINT || v->u <= (uint64_t)INT64_MAX);
        if (ok) return 0;
        if (v->neg)
            return errf(err, errlen, d->name,
                        "field '%s' out of range %" PRId64 "..%" PRIu64 " (got %" PRId64 ")",
                        fd->name, fd->min, fd->max, v->i);
        return errf(err, errlen, d->name,
                    "field '%s' out of range %" PRId64 "..%" PRIu64 " (got %" PRIu64 ")", fd->name,
                    fd->min, fd->max, v->u);
    }
    case PA_PROTO_BOOL: return 0;
    }
    return errf(err, errlen, d->name, "field '%s' has an unknown type", fd->name);
}

/* ---- The decoder ---- */

static int is_map_byte(unsigned c)
{
    return (c & 0xf0) == 0x80 || c == 0xde || c == 0xdf;
}

static int kind_fits(pa_proto_type_t t, kind_t k)
{
    switch (t) {
    case PA_PROTO_STR: return k == K_STR;
    case PA_PROTO_BIN: return k == K_BIN;
    case PA_PROTO_UINT:
    case PA_PROTO_INT: return k == K_UINT || k == K_NINT;
    case PA_PROTO_BOOL: return k == K_BOOL;
    case PA_PROTO_ANY: return 1;
    }
    return 0;
}

int pa_proto__decode_body(const pa_proto_msg_desc_t *d, const void *body, size_t body_len,
                          pa_msg_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = '\0';
    if (body_len > PA_PROTO_MAX_BODY)
        return errf(err, errlen, d->name, "body frame of %zu bytes exceeds the %zu-byte limit",
                    body_len, PA_PROTO_MAX_BODY);
    if (body_len == 0 || !body) return errf(err, errlen, d->name, "empty body");
    if (d->nfields > PA_PROTO_MAX_FIELDS)
        return errf(err, errlen, d->name, "declaration has too many fields");

    rd_t r = {body, body_len, 0, d->name, err, errlen};
    if (!is_map_byte(r.p[0])) return errf(err, errlen, d->name, "body is not a msgpack map");

    /* Pass 1: the whole body is one well-formed, bounded value and nothing follows it. */
    if (walk(&r, 0) < 0) return -1;
    if (r.pos != r.len)
        return errf(err, errlen, d->name, "trailing bytes after body (%zu)", r.len - r.pos);

    /* Pass 2: every entry is a declared field of the right type within bounds. Values are only
     * looked at here (views into the body); nothing is allocated until all of them pass. */
    view_t views[PA_PROTO_MAX_FIELDS];
    bool seen[PA_PROTO_MAX_FIELDS] = {false};
    tok_t map;
    r.pos = 0;
    rd_token(&r, &map); /* cannot fail: pass 1 read it */
    for (uint64_t e = 0; e < map.u; e++) {
        tok_t key, val;
        rd_token(&r, &key);
        if (key.kind != K_STR) {
            return errf(err, errlen, d->name, "field name at offset %zu is %s, not str", key.off,
                        kind_names[key.kind]);
        }
        size_t i = 0;
        while (i < d->nfields && !(strlen(d->fields[i].name) == key.n &&
                                   memcmp(d->fields[i].name, key.p, key.n) == 0))
            i++;
        if (i == d->nfields) {
            char name[SAFE_NAME_LEN];
            safe_name(key.p, key.n, name);
            return errf(err, errlen, d->name, "unknown field '%s'", name);
        }
        const pa_proto_field_desc_t *fd = &d->fields[i];
        if (seen[i]) return errf(err, errlen, d->name, "duplicate field '%s'", fd->name);
        seen[i] = true;

        size_t start = r.pos;
        rd_token(&r, &val);
        if (!kind_fits(fd->type, val.kind)) {
            return errf(err, errlen, d->name, "field '%s' must be %s, got %s", fd->name,
                        pa_proto_type_name(fd->type), kind_names[val.kind]);
        }
        view_t *v = &views[i];
        memset(v, 0, sizeof *v);
        if (fd->type == PA_PROTO_ANY) {
            r.pos = start;
            walk(&r, 1); /* cannot fail: pass 1 walked it */
            v->p = r.p + start, v->n = r.pos - start;
        } else if (val.kind == K_NINT) {
            v->neg = true, v->i = val.i;
        } else {
            v->u = val.u, v->b = val.b, v->p = val.p, v->n = val.n;
        }
        if (check_value(d, fd, v, err, errlen) < 0) return -1;
    }
    for (size_t i = 0; i < d->nfields; i++)
        if (d->fields[i].required && !seen[i])
            return errf(err, errlen, d->name, "missing required field '%s'", d->fields[i].name);

    pa_msg_t *m = pa_msg__new_desc(d);
    for (size_t i = 0; i < d->nfields; i++) {
        if (!seen[i]) continue;
        value_t *mv = &m->vals[i];
        const view_t *v = &views[i];
        mv->set = true;
        switch (d->fields[i].type) {
        case PA_PROTO_UINT: mv->v.u = v->u; break;
        case PA_PROTO_INT: mv->v.i = v->neg ? v->i : (int64_t)v->u; break;
        case PA_PROTO_BOOL: mv->v.b = v->b; break;
        case PA_PROTO_STR:
        case PA_PROTO_BIN:
        case PA_PROTO_ANY:
            mv->v.bytes.p = pa_malloc(v->n + 1);
            if (v->n) memcpy(mv->v.bytes.p, v->p, v->n);
            mv->v.bytes.p[v->n] = '\0';
            mv->v.bytes.n = v->n;
            break;
        }
    }
    *out = m;
    return 0;
}

int pa_proto_decode(const void *header, size_t header_len, const void *body, size_t body_len,
                    pa_msg_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = '\0';
    const unsigned char *h = header;
    if (header_len != PA_PROTO_HEADER_LEN || !h)
        return errf(err, errlen, NULL, "header frame is %zu bytes, expected %d", header_len,
                    PA_PROTO_HEADER_LEN);
    if (h[0] != PA_PROTO_MAGIC0 || h[1] != PA_PROTO_MAGIC1)
        return errf(err, errlen, NULL, "bad magic");
    if (h[2] != PA_PROTO_VERSION) return errf(err, errlen, NULL, "unsupported version %u", h[2]);
    const pa_proto_msg_desc_t *d = pa_proto_msg_desc(h[3]);
    if (!d) return errf(err, errlen, NULL, "unknown command 0x%02x", h[3]);
    return pa_proto__decode_body(d, body, body_len, out, err, errlen);
}

/* ---- The encoder ---- */

static int buf_write(void *data, const char *p, size_t n)
{
    pa_buf_put(data, p, n);
    return 0;
}

int pa_proto_encode(const pa_msg_t *m, unsigned char header[PA_PROTO_HEADER_LEN], pa_buf_t *body,
                    char *err, size_t errlen)
{
    const pa_proto_msg_desc_t *d = m->desc;
    if (err && errlen) err[0] = '\0';
    pa_buf_reset(body);

    size_t count = 0;
    for (size_t i = 0; i < d->nfields; i++) {
        const pa_proto_field_desc_t *fd = &d->fields[i];
        const value_t *mv = &m->vals[i];
        if (!mv->set) {
            if (fd->required)
                return errf(err, errlen, d->name, "missing required field '%s'", fd->name);
            continue;
        }
        count++;
        view_t v = {0};
        switch (fd->type) {
        case PA_PROTO_UINT: v.u = mv->v.u; break;
        case PA_PROTO_INT:
            if (mv->v.i < 0) v.neg = true, v.i = mv->v.i;
            else v.u = (uint64_t)mv->v.i;
            break;
        case PA_PROTO_BOOL: v.b = mv->v.b; break;
        case PA_PROTO_STR:
        case PA_PROTO_BIN:
        case PA_PROTO_ANY: v.p = mv->v.bytes.p, v.n = mv->v.bytes.n; break;
        }
        if (fd->type == PA_PROTO_ANY) {
            /* The receiver sees this value one level inside the body map. */
            rd_t r = {v.p, v.n, 0, d->name, NULL, 0};
            if (v.n == 0 || walk(&r, 1) < 0 || r.pos != v.n)
                return errf(err, errlen, d->name,
                            "field '%s' is not one well-formed msgpack value (of depth <= %d)",
                            fd->name, PA_PROTO_MAX_DEPTH - 1);
        }
        if (check_value(d, fd, &v, err, errlen) < 0) return -1;
    }

    msgpack_packer pk;
    msgpack_packer_init(&pk, body, buf_write);
    msgpack_pack_map(&pk, count);
    for (size_t i = 0; i < d->nfields; i++) {
        const pa_proto_field_desc_t *fd = &d->fields[i];
        const value_t *mv = &m->vals[i];
        if (!mv->set) continue;
        msgpack_pack_str_with_body(&pk, fd->name, strlen(fd->name));
        switch (fd->type) {
        case PA_PROTO_STR: msgpack_pack_str_with_body(&pk, mv->v.bytes.p, mv->v.bytes.n); break;
        case PA_PROTO_BIN: msgpack_pack_bin_with_body(&pk, mv->v.bytes.p, mv->v.bytes.n); break;
        case PA_PROTO_ANY: pa_buf_put(body, mv->v.bytes.p, mv->v.bytes.n); break;
        case PA_PROTO_UINT: msgpack_pack_uint64(&pk, mv->v.u); break;
        case PA_PROTO_INT: msgpack_pack_int64(&pk, mv->v.i); break;
        case PA_PROTO_BOOL:
            if (mv->v.b) msgpack_pack_true(&pk);
            else msgpack_pack_false(&pk);
            break;
        }
    }
    if (body->len > PA_PROTO_MAX_BODY) {
        size_t n = body->len;
        pa_buf_reset(body);
        return errf(err, errlen, d->name, "body of %zu bytes exceeds the %zu-byte limit", n,
                    PA_PROTO_MAX_BODY);
    }
    header[0] = PA_PROTO_MAGIC0;
    header[1] = PA_PROTO_MAGIC1;
    header[2] = PA_PROTO_VERSION;
    header[3] = d->code;
    return 0;
}
