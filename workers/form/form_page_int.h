/* The page's insides, shared by form_page.c (parse, links, analysis), form_fill.c (classify,
 * fill), form_judge.c (the answer) and form_charset.c (decoding); not part of the contract. */
#ifndef FORM_PAGE_INT_H
#define FORM_PAGE_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "form_page.h"
#include "pa_arena.h"

#define FP_MAX_BYTES (4u << 20) /* a body over this is refused (the worker reads 2 MiB) */
#define FP_MAX_DEPTH 512        /* elements nested deeper are not looked at */
#define FP_MAX_FORMS 64
#define FP_MAX_FIELDS 1024 /* over all forms */
#define FP_MAX_OPTIONS 4096
#define FP_MAX_LABELS 1024
#define FP_MAX_LINKS 256 /* contact-link candidates */
#define FP_MAX_SIGNALS 48
#define FP_MAX_ERRORS 16
#define FP_MAX_CONTACTS 16
#define FP_TEXT_MAX 65536
#define FP_LABEL_MAX 300 /* bytes kept of a label's, a link's or an error's text */
#define FP_NEAR_MAX 160  /* bytes of text kept before a field (maths challenges, stars) */

typedef struct {
    const char *value, *text;
    bool selected, disabled;
} fp_option_t;

typedef struct {
    form_field_desc_t d;
    const char *value; /* value attribute, a textarea's content, or NULL */
    const char *near;  /* the text since the previous field (also d.near) */
    const char *form_attr;
    int form;       /* the form it belongs to, or -1 */
    int wrap_label; /* the label around it, or -1 */
    long maxlength; /* -1 when absent */
    bool required, checked, disabled, aria_invalid, aria_hidden;
    size_t opt0, nopt; /* its options in page->options (selects) */
    size_t text_at;    /* offset in the walk's text, for near */
} fp_field_t;

typedef struct {
    const char *action, *method, *enctype, *id, *klass, *name, *role;
    const char *text;     /* the text around and inside it (folded), for wording checks */
    bool search_landmark; /* in (or is) role=search */
    bool in_nav;
    size_t text_start, text_end;
} fp_form_t;

typedef struct {
    const char *href, *text, *rel, *aria, *title;
    int score;
    size_t order;
} fp_link_t;

typedef struct {
    const char *for_id, *text;
} fp_label_t;

/* What a CAPTCHA or a JavaScript embed left in the markup. */
typedef enum { FP_SIG_CAPTCHA, FP_SIG_CAPTCHA_SCRIPT, FP_SIG_EMBED } fp_sig_type_t;
typedef struct {
    fp_sig_type_t type;
    const char *kind, *evidence;
    int form; /* the form it is in, or -1 */
} fp_signal_t;

struct form_page {
    pa_arena_t *arena;
    const char *url, *base, *charset, *lang, *title, *text;
    size_t text_len;
    fp_form_t *forms;
    size_t nforms;
    fp_field_t *fields;
    size_t nfields;
    fp_option_t *options;
    size_t noptions;
    fp_label_t *labels;
    size_t nlabels;
    fp_link_t *links;
    size_t nlinks;
    fp_signal_t signals[FP_MAX_SIGNALS];
    size_t nsignals;
    const char *errors[FP_MAX_ERRORS]; /* validation messages shown (the judge's) */
    size_t nerrors;
    const char *soft_errors[FP_MAX_ERRORS]; /* .invalid-feedback: shown only with is-invalid */
    size_t nsoft_errors;
    bool has_invalid; /* an is-invalid class or aria-invalid=true somewhere */
    const char *emails[FP_MAX_CONTACTS], *phones[FP_MAX_CONTACTS];
    size_t nemails, nphones;
    const char **contact_urls; /* form_page_contact_links' answer, made once */
    size_t ncontact_urls;
    form_kind_t *kinds; /* each field's kind, made once */
    bool analyzed;
    form_analysis_t analysis;
};

/* ---- form_charset.c ---- */
/* s[0..n) (UTF-8) in charset, for a form post: a malloc'd string (caller frees; *outlen its
 * length), characters the charset cannot hold as &#N; references; NULL when the text goes as it
 * is (a UTF-8 or UTF-16 page, an unknown charset). */
char *fp_encode(const char *charset, const char *s, size_t n, size_t *outlen);
/* body decoded to UTF-8 (NUL-terminated, invalid sequences replaced by U+FFFD) into *out (the
 * caller frees; NULL when it is the body itself, valid UTF-8 already); the charset's name in
 * *charset (static). Returns the decoded length. */
size_t fp_decode(const char *body, size_t len, const char *content_type, char **out,
                 const char **charset);

/* ---- text helpers (form_page.c) ---- */
/* s lowercased into dst (same length: ASCII, Latin-1 and Cyrillic capitals), NUL-terminated;
 * dst holds n + 1 bytes. When words, '_', '-', '.', '[', ']', ':' and '/' become spaces and a
 * camelCase boundary... is not marked (firstName folds to firstname). */
void fp_fold(char *dst, const char *s, size_t n, bool words);
/* The first of phrases[0..n) found in hay (folded) at a word start: its index, or -1; *at gets
 * its offset. Phrases have three bytes at least; an index of them is made once for many
 * searches (fp_index, fp_find), or for one (fp_find_phrase). */
#define FP_INDEX_HEADS 1024
#define FP_INDEX_MAX 256
typedef struct {
    const char *const *phrases;
    size_t n;
    short head[FP_INDEX_HEADS], next[FP_INDEX_MAX];
    unsigned char len[FP_INDEX_MAX];
} fp_index_t;
void fp_index(fp_index_t *x, const char *const *phrases, size_t n);
int fp_find(const fp_index_t *x, const char *hay, size_t len, size_t *at);
int fp_find_phrase(const char *hay, size_t len, const char *const *phrases, size_t n, size_t *at);
/* hay (folded, words) holds kw as a whole word (bounded by non-alphanumerics). */
bool fp_has_word(const char *hay, const char *kw);
/* s with malformed or cut UTF-8 sequences dropped, in place (after a byte-bounded printf). */
char *fp_utf8_fix(char *s);
/* The page's text lowercased by fp_fold (same offsets as the text); the caller frees. */
char *fp_folded(const form_page_t *p);
/* An arena copy of s[0..n) cut to at most max bytes on a character boundary, blanks trimmed. */
char *fp_strcut(pa_arena_t *a, const char *s, size_t n, size_t max);
/* Analysis helpers shared with form_fill.c and form_judge.c. */
form_kind_t fp_field_kind(form_page_t *p, size_t field);
bool fp_is_math(const char *s);
/* href resolved against the page's base: an arena copy, or NULL when it is not http(s). */
const char *fp_resolve(form_page_t *p, const char *href);
extern const char *const fp_success[]; /* thank-you phrases, folded */
extern const size_t fp_nsuccess;

#endif
