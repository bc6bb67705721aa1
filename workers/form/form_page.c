/* The page: decoded, parsed by gumbo, and walked once (iteratively, depth-bounded) into what the
 * worker needs (forms, fields, labels, options, contact-link candidates, CAPTCHA and embed
 * signals, validation messages, visible text). The gumbo tree lives in a bump allocator for the
 * parse only: everything kept is copied into the page's arena, so a page in flight holds its
 * text and its forms, not a DOM. */
#include <ctype.h>
#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form_page_int.h"
#include "pa_buf.h"
#include "pa_http.h"
#include "pa_mem.h"
#include "pa_utf8.h"

/* ---- text helpers ------------------------------------------------------------------------- */

void fp_fold(char *dst, const char *s, size_t n, bool words)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = u[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        else if (words &&
                 (c == '_' || c == '-' || c == '.' || c == '[' || c == ']' || c == ':' || c == '/'))
            c = ' ';
        else if (c == 0xC3 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9E &&
                 u[i + 1] != 0x97) {
            dst[i] = (char)c, dst[i + 1] = (char)(u[i + 1] + 0x20), i++;
            continue;
        } else if (c == 0xD0 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0xAF) {
            unsigned char d = u[i + 1];
            if (d >= 0x90 && d <= 0x9F) dst[i] = (char)0xD0, dst[i + 1] = (char)(d + 0x20);
            else if (d >= 0xA0) dst[i] = (char)0xD1, dst[i + 1] = (char)(d - 0x20);
            else dst[i] = (char)0xD1, dst[i + 1] = (char)(d + 0x10);
            i++;
            continue;
        }
        dst[i] = (char)c;
    }
    dst[n] = 0;
}

static bool alnum(unsigned char c)
{
    return (unsigned)((c | 32) - 'a') < 26 || (unsigned)(c - '0') < 10;
}

static unsigned tri(const unsigned char *u)
{
    return (u[0] * 961u + u[1] * 31u + u[2]) & (FP_INDEX_HEADS - 1);
}

void fp_index(fp_index_t *x, const char *const *phrases, size_t n)
{
    /* the phrases chained by their first three bytes (hashed), so a position costs one look-up
     * and only phrases that start like it are compared */
    x->phrases = phrases;
    x->n = n < FP_INDEX_MAX ? n : FP_INDEX_MAX;
    memset(x->head, -1, sizeof x->head);
    for (size_t j = x->n; j-- > 0;) {
        size_t l = strlen(phrases[j]);
        x->len[j] = (unsigned char)(l < 255 ? l : 255);
        if (l < 3 || l > 255) continue; /* three bytes at least */
        unsigned h = tri((const unsigned char *)phrases[j]);
        x->next[j] = x->head[h], x->head[h] = (short)j;
    }
}

int fp_find(const fp_index_t *x, const char *hay, size_t len, size_t *at)
{
    const unsigned char *u = (const unsigned char *)hay;
    size_t i = 0; /* hay's first byte starts a word */
    while (i + 3 <= len) {
        unsigned char c = u[i];
        if ((c & 0xC0) == 0x80 || c == ' ') { /* inside a UTF-8 sequence, or a blank */
            i++;
            continue;
        }
        /* a word's start (or any character outside ASCII words) */
        for (short j = x->head[tri(u + i)]; j >= 0; j = x->next[j])
            if (x->len[j] <= len - i && memcmp(hay + i, x->phrases[j], x->len[j]) == 0) {
                if (at) *at = i;
                return j;
            }
        i++;
        if (alnum(c))
            while (i < len && alnum(u[i])) i++; /* the rest of the word */
    }
    return -1;
}

int fp_find_phrase(const char *hay, size_t len, const char *const *phrases, size_t n, size_t *at)
{
    fp_index_t x;
    fp_index(&x, phrases, n);
    return fp_find(&x, hay, len, at);
}

bool fp_has_word(const char *hay, const char *kw)
{
    size_t k = strlen(kw);
    for (const char *s = hay; (s = strstr(s, kw)); s++) {
        unsigned char b = s == hay ? ' ' : (unsigned char)s[-1], a = (unsigned char)s[k];
        if (!alnum(b) && b < 0x80 && !alnum(a) && a < 0x80) return true;
    }
    return false;
}

char *fp_utf8_fix(char *s)
{
    size_t k = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = pa_utf8_decode(s + i, n - i, &cp);
        if (!l) { /* a sequence cut by a byte bound, or not UTF-8: dropped */
            i++;
            continue;
        }
        memmove(s + k, s + i, l);
        k += l, i += l;
    }
    s[k] = 0;
    return s;
}

char *fp_folded(const form_page_t *p)
{
    char *f = pa_malloc(p->text_len + 1);
    fp_fold(f, p->text, p->text_len, false);
    return f;
}

char *fp_strcut(pa_arena_t *a, const char *s, size_t n, size_t max)
{
    while (n && (*s == ' ' || *s == '\n')) s++, n--;
    if (n > max) n = max;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* s[n] is in the buffer: cut there */
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n')) n--;
    return pa_arena_strndup(a, s, n);
}

/* ---- the parse's memory: a bump allocator freed at once (gumbo frees piece by piece) ------- */

typedef struct bump_blk {
    struct bump_blk *next;
    size_t used, cap;
    max_align_t data[];
} bump_blk_t;

typedef struct {
    bump_blk_t *head;
} bump_t;

static void *bump_alloc(void *ud, size_t n)
{
    bump_t *b = ud;
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    bump_blk_t *k = b->head;
    if (!k || k->cap - k->used < n) {
        size_t cap = n > (64u << 10) ? n : (64u << 10);
        k = pa_malloc(sizeof *k + cap);
        k->used = 0, k->cap = cap;
        k->next = b->head;
        b->head = k;
    }
    void *p = (char *)k->data + k->used;
    k->used += n;
    return p;
}

static void bump_free(void *ud, void *p)
{
    (void)ud; /* gumbo's frees: the bump allocator releases everything at once */
    (void)p;
}

static void bump_destroy(bump_t *b)
{
    for (bump_blk_t *k = b->head, *n; k; k = n) {
        n = k->next;
        free(k);
    }
    b->head = NULL;
}

/* ---- the walk ----------------------------------------------------------------------------- */

enum {
    F_HIDDEN = 1, /* hidden by the hidden attribute or inline CSS (or a builder's class) */
    F_NOTEXT = 2, /* text not shown as page text (script, style, textarea, option) */
    F_NAV = 4,    /* in nav, header, footer */
    F_SEARCH = 8, /* in role=search */
    F_REQ = 16,   /* in a builder's "required field" container */
    F_ARIA_HIDDEN = 32,
    F_ERR = 64,       /* in a validation message already taken */
    F_CSSCLS = 128,   /* in a class that builders' stylesheets hide (honeypots, d-none) */
    F_ERR_SOFT = 256, /* this element is a .invalid-feedback (shown only with is-invalid) */
    F_ERR_MSG = 512,  /* this element is a validation message */
};

typedef struct {
    GumboNode *node;
    unsigned child;
    unsigned flags;
    size_t text_start;
    int form, label, link, field, select;
} frame_t;

typedef struct {
    form_page_t *p;
    pa_buf_t text; /* all visible text, whitespace collapsed */
    bool space;
    frame_t *st;
    size_t depth, cap;
    size_t order;
    size_t forms_cap, fields_cap, options_cap, labels_cap, links_cap; /* the page's arrays */
    fp_index_t contact, success; /* made once per page, used per link and per message */
} walk_t;

/* Room for one more element in a growable array of at most max: false when it is full. */
#define ROOM(arr, n, cap, max) ((n) < (cap) || grow((void **)&(arr), &(cap), sizeof *(arr), max))
static bool grow(void **a, size_t *cap, size_t size, size_t max)
{
    if (*cap >= max) return false;
    size_t c = *cap ? *cap * 2 : 16;
    *a = pa_realloc(*a, (c < max ? c : max) * size);
    *cap = c < max ? c : max;
    return true;
}

/* The attributes the walk looks at, in one pass over an element's list. */
typedef struct {
    const char *klass, *id, *style, *role, *name, *type, *value, *href, *src, *for_, *action,
        *method, *enctype, *placeholder, *aria_label, *autocomplete, *tabindex, *maxlength, *rel,
        *title, *form, *content, *http_equiv, *lang, *render, *alt, *data_size, *aria_required,
        *aria_invalid, *aria_hidden;
    bool hidden, required, checked, disabled, selected, sitekey, typeform, multiple;
} attrs_t;

static void get_attrs(const GumboElement *e, attrs_t *a)
{
    memset(a, 0, sizeof *a);
    for (unsigned i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *at = e->attributes.data[i];
        const char *n = at->name, *v = at->value;
#define A(s, f)                                                                                    \
    if (strcmp(n, s) == 0) {                                                                       \
        a->f = v;                                                                                  \
        continue;                                                                                  \
    }
#define B(s, f)                                                                                    \
    if (strcmp(n, s) == 0) {                                                                       \
        a->f = true;                                                                               \
        continue;                                                                                  \
    }
        switch (n[0]) {
        case 'a':
            A("action", action) A("autocomplete", autocomplete) A("alt", alt);
            A("aria-label", aria_label) A("aria-required", aria_required);
            A("aria-invalid", aria_invalid) A("aria-hidden", aria_hidden);
            break;
        case 'c': A("class", klass) A("content", content) B("checked", checked); break;
        case 'd':
            B("disabled", disabled) B("data-sitekey", sitekey) B("data-tf-widget", typeform);
            B("data-tf-live", typeform) A("data-size", data_size);
            break;
        case 'e': A("enctype", enctype) break;
        case 'f': A("for", for_) A("form", form) break;
        case 'h': A("href", href) B("hidden", hidden) A("http-equiv", http_equiv) break;
        case 'i': A("id", id) break;
        case 'l': A("lang", lang) break;
        case 'm': A("method", method) A("maxlength", maxlength) B("multiple", multiple) break;
        case 'n': A("name", name) break;
        case 'p': A("placeholder", placeholder) break;
        case 'r': A("role", role) A("rel", rel) B("required", required) break;
        case 's': A("style", style) A("src", src) B("selected", selected) break;
        case 't': A("type", type) A("tabindex", tabindex) A("title", title) break;
        case 'v': A("value", value) break;
        }
#undef A
#undef B
    }
}

/* Inline CSS that hides an element (or moves it off-screen). */
static bool style_hides(const char *style)
{
    char s[512];
    size_t k = 0;
    for (const char *c = style; *c && k < sizeof s - 1; c++)
        if (*c != ' ' && *c != '\t' && *c != '\n') s[k++] = (char)tolower((unsigned char)*c);
    s[k] = 0;
    if (strstr(s, "display:none") || strstr(s, "visibility:hidden") || strstr(s, "z-index:-"))
        return true;
    const char *o = strstr(s, "opacity:");
    if (o && o[8] == '0' && o[9] != '.') return true;
    static const char *const off[] = {"left:-", "top:-", "margin-left:-", "text-indent:-"};
    for (size_t i = 0; i < sizeof off / sizeof *off; i++) {
        const char *l = strstr(s, off[i]);
        if (l && atol(l + strlen(off[i])) >= 100) return true;
    }
    if ((strstr(s, "height:0") || strstr(s, "max-height:0")) && strstr(s, "overflow:hidden"))
        return true;
    return false;
}

/* Inline CSS that shows an element a stylesheet hides (display: anything but none): a builder's
 * thank-you block that the server's answer shows (Webflow's .w-form-done with display:block). */
static bool style_shows(const char *style)
{
    const char *d = strcasestr(style, "display");
    if (!d) return false;
    d += 7;
    while (*d == ' ' || *d == '\t') d++;
    if (*d != ':') return false;
    d++;
    while (*d == ' ' || *d == '\t') d++;
    return *d && strncasecmp(d, "none", 4) != 0;
}

static bool contains_ci(const char *s, const char *needle)
{
    return s && strcasestr(s, needle);
}

static void add_signal(form_page_t *p, fp_sig_type_t t, const char *kind, const char *ev, int form)
{
    for (size_t i = 0; i < p->nsignals; i++)
        if (p->signals[i].type == t && p->signals[i].form == form &&
            strcmp(p->signals[i].kind, kind) == 0)
            return;
    if (p->nsignals == FP_MAX_SIGNALS) return;
    p->signals[p->nsignals++] =
        (fp_signal_t){t, kind, fp_utf8_fix(pa_arena_strndup(p->arena, ev, 200)), form};
}

/* Embeds and CAPTCHA services by a script's or an iframe's URL. */
static void url_signals(form_page_t *p, const char *u, int form, bool iframe)
{
    static const struct {
        const char *needle, *kind;
    } embeds[] = {
        {"hsforms.net", "hubspot"},
        {"hsforms.com", "hubspot"},
        {"typeform.com", "typeform"},
        {"jotform", "jotform"},
        {"jotfor.ms", "jotform"},
        {"docs.google.com/forms", "google_forms"},
        {"forms.gle", "google_forms"},
        {"formstack.com", "formstack"},
        {"pipedrive.com", "pipedrive"},
        {"cognitoforms.com", "cognito"},
        {"marketo.com/js/forms2", "marketo"},
        {"mktoforms", "marketo"},
        {"ninja-forms", "ninja_forms"},
        {"parastorage.com", "wix"},
        {"wixstatic.com", "wix"},
        {"zohopublic", "zoho"},
        {"paperform.co", "paperform"},
        {"tally.so", "tally"},
        {"wufoo.com", "wufoo"},
        {"forms.office.com", "microsoft_forms"},
        {"airtable.com/embed", "airtable"},
        {"activehosted.com/f/embed", "activecampaign"},
        {"123formbuilder", "123formbuilder"},
    };
    for (size_t i = 0; i < sizeof embeds / sizeof *embeds; i++)
        if (contains_ci(u, embeds[i].needle)) {
            char ev[240];
            snprintf(ev, sizeof ev, "%s %.200s", iframe ? "iframe" : "script", u);
            add_signal(p, FP_SIG_EMBED, embeds[i].kind, ev, form);
        }
    char ev[240];
    snprintf(ev, sizeof ev, "%s %.200s", iframe ? "iframe" : "script", u);
    if (contains_ci(u, "/recaptcha/")) {
        const char *r = strcasestr(u, "render=");
        bool v3 = r && strncasecmp(r + 7, "explicit", 8) != 0 &&
                  strncasecmp(r + 7, "onload", 6) != 0 && r[7] && r[7] != '&';
        add_signal(p, FP_SIG_CAPTCHA_SCRIPT, v3 ? "recaptcha_v3" : "recaptcha_v2", ev, form);
    }
    if (contains_ci(u, "hcaptcha.com")) add_signal(p, FP_SIG_CAPTCHA_SCRIPT, "hcaptcha", ev, form);
    if (contains_ci(u, "challenges.cloudflare.com"))
        add_signal(p, FP_SIG_CAPTCHA_SCRIPT, "turnstile", ev, form);
    if (contains_ci(u, "friendlycaptcha") || contains_ci(u, "friendly-challenge"))
        add_signal(p, FP_SIG_CAPTCHA_SCRIPT, "friendly_captcha", ev, form);
}

/* Inline scripts: the calls that render a form or run a CAPTCHA. */
static void script_signals(form_page_t *p, const char *s, size_t n, int form)
{
    static const struct {
        const char *needle, *kind;
        fp_sig_type_t t;
    } calls[] = {
        {"hbspt.forms.create", "hubspot", FP_SIG_EMBED},
        {"MktoForms2.loadForm", "marketo", FP_SIG_EMBED},
        {"nfForms", "ninja_forms", FP_SIG_EMBED},
        {"JotFormIFrame", "jotform", FP_SIG_EMBED},
        {"tf.createWidget", "typeform", FP_SIG_EMBED},
        {"grecaptcha.execute", "recaptcha_v3", FP_SIG_CAPTCHA_SCRIPT},
        {"grecaptcha.enterprise.execute", "recaptcha_v3", FP_SIG_CAPTCHA_SCRIPT},
        {"grecaptcha.render", "recaptcha_v2", FP_SIG_CAPTCHA_SCRIPT},
        {"hcaptcha.render", "hcaptcha", FP_SIG_CAPTCHA_SCRIPT},
        {"turnstile.render", "turnstile", FP_SIG_CAPTCHA_SCRIPT},
    };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++)
        if (memmem(s, n, calls[i].needle, strlen(calls[i].needle)))
            add_signal(p, calls[i].t, calls[i].kind, calls[i].needle, form);
}

/* What a class token says. */
enum { C_CAPTCHA, C_EMBED, C_HIDE, C_HPCLS, C_REQ, C_INVALID, C_ERR, C_ERR_SOFT };
typedef struct {
    const char *name;
    unsigned char len, what;
    const char *kind;
} cls_t;
#define C(s, w, k)                                                                                 \
    {                                                                                              \
        s, sizeof s - 1, w, k                                                                      \
    }
static const cls_t classes[] = {
    C("g-recaptcha", C_CAPTCHA, "recaptcha_v2"),
    C("ginput_recaptcha", C_CAPTCHA, "recaptcha_v2"),
    C("h-captcha", C_CAPTCHA, "hcaptcha"),
    C("cf-turnstile", C_CAPTCHA, "turnstile"),
    C("frc-captcha", C_CAPTCHA, "friendly_captcha"),
    C("wpforms-captcha-math", C_CAPTCHA, "math"),
    C("nf-form-cont", C_EMBED, "ninja_forms"),
    C("hbspt-form", C_EMBED, "hubspot"),
    C("hs-form-frame", C_EMBED, "hubspot"),
    C("typeform-widget", C_EMBED, "typeform"),
    C("pipedriveWebForms", C_EMBED, "pipedrive"),
    C("cognito", C_EMBED, "cognito"),
    C("elementor-widget-form", C_EMBED, "elementor"),
    C("sqs-block-form", C_EMBED, "squarespace"),
    C("wixui-form", C_EMBED, "wix"),
    /* builders' parts their stylesheets hide: messages shown after a post by script (not page
     * text); honeypot containers and utility classes (their fields are hidden) */
    C("w-form-done", C_HIDE, NULL),
    C("w-form-fail", C_HIDE, NULL),
    C("screen-reader-response", C_HIDE, NULL),
    C("gform_validation_container", C_HPCLS, NULL),
    C("wpforms-field-hp", C_HPCLS, NULL),
    C("frm_verify", C_HPCLS, NULL),
    C("hidden", C_HPCLS, NULL),
    C("d-none", C_HPCLS, NULL),
    C("elementor-field-type-honeypot", C_HPCLS, NULL),
    C("akismet-fields-container", C_HPCLS, NULL),
    C("honeypot", C_HPCLS, NULL),
    C("hp-field", C_HPCLS, NULL),
    C("nf-field-hp", C_HPCLS, NULL),
    C("hide", C_HPCLS, NULL),
    C("sr-only", C_HPCLS, NULL),
    C("visually-hidden", C_HPCLS, NULL),
    C("gfield_contains_required", C_REQ, NULL),
    C("wpforms-field-required", C_REQ, NULL),
    C("is-required", C_REQ, NULL),
    C("required-field", C_REQ, NULL),
    C("field-required", C_REQ, NULL),
    C("form-required", C_REQ, NULL),
    C("required", C_REQ, NULL),
    C("wpcf7-validates-as-required", C_REQ, NULL),
    C("is-invalid", C_INVALID, NULL),
    C("gfield_error", C_INVALID, NULL),
    C("has-error", C_INVALID, NULL),
    /* validation messages (the judge's) */
    C("field_with_errors", C_ERR, NULL),
    C("wpcf7-not-valid-tip", C_ERR, NULL),
    C("errorlist", C_ERR, NULL),
    C("gfield_validation_message", C_ERR, NULL),
    C("validation_message", C_ERR, NULL),
    C("validation_error", C_ERR, NULL),
    C("gform_validation_errors", C_ERR, NULL),
    C("wpforms-error", C_ERR, NULL),
    C("nf-error-msg", C_ERR, NULL),
    C("error-message", C_ERR, NULL),
    C("error_message", C_ERR, NULL),
    C("errormessage", C_ERR, NULL),
    C("field-error", C_ERR, NULL),
    C("form-error", C_ERR, NULL),
    C("errors", C_ERR, NULL),
    C("error", C_ERR, NULL),
    C("alert-danger", C_ERR, NULL),
    C("alert-error", C_ERR, NULL),
    C("messages--error", C_ERR, NULL),
    C("form-item--error-message", C_ERR, NULL),
    C("hs-error-msg", C_ERR, NULL),
    C("help-block-error", C_ERR, NULL),
    C("text-danger", C_ERR, NULL),
    C("invalid-feedback", C_ERR_SOFT, NULL),
};
#undef C

/* The class list's tokens, each looked up once: signals, flags, and whether the element is a
 * validation message (F_ERR_MSG / F_ERR_SOFT). */
static unsigned class_signals(walk_t *w, const attrs_t *a, const frame_t *f, unsigned *flags)
{
    form_page_t *p = w->p;
    unsigned err = 0;
    char ev[160];
    for (const char *s = a->klass; *s;) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f') s++;
        const char *e = s;
        while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r' && *e != '\f') e++;
        size_t n = (size_t)(e - s);
        for (size_t i = 0; n && i < sizeof classes / sizeof *classes; i++) {
            const cls_t *c = &classes[i];
            if (c->len != n || c->name[0] != s[0] || memcmp(c->name, s, n) != 0) continue;
            switch (c->what) {
            case C_CAPTCHA:
                snprintf(ev, sizeof ev, "div.%s%s", c->name, a->sitekey ? "[data-sitekey]" : "");
                add_signal(p, FP_SIG_CAPTCHA, c->kind, ev, f->form);
                break;
            case C_EMBED:
                snprintf(ev, sizeof ev, ".%s", c->name);
                add_signal(p, FP_SIG_EMBED, c->kind, ev, f->form);
                break;
            case C_HIDE:
                if (!(a->style && style_shows(a->style))) *flags |= F_HIDDEN;
                break;
            case C_HPCLS: *flags |= F_CSSCLS; break;
            case C_REQ: *flags |= F_REQ; break;
            case C_INVALID: p->has_invalid = true; break;
            case C_ERR: err |= F_ERR_MSG; break;
            case C_ERR_SOFT: err |= F_ERR_SOFT; break;
            }
            break;
        }
        s = e;
    }
    return err & F_ERR_MSG ? F_ERR_MSG : err;
}

static void text_put(walk_t *w, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    pa_buf_reserve(&w->text, n + 2); /* a blank before, the NUL after */
    char *o = w->text.data + w->text.len;
    bool space = w->space;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = u[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' ||
            (c == 0xC2 && i + 1 < n && u[i + 1] == 0xA0 && ++i)) { /* no-break space too */
            space = true;
            continue;
        }
        if (space && o > w->text.data && o[-1] != ' ') *o++ = ' ';
        space = false;
        *o++ = (char)c;
    }
    w->text.len = (size_t)(o - w->text.data);
    w->text.data[w->text.len] = 0;
    w->space = space;
}

/* The text of an element's own text children (options, textareas, titles, scripts). */
static void own_text(const GumboNode *n, pa_buf_t *b)
{
    const GumboVector *c = &n->v.element.children;
    for (unsigned i = 0; i < c->length; i++) {
        const GumboNode *t = c->data[i];
        if (t->type == GUMBO_NODE_TEXT || t->type == GUMBO_NODE_WHITESPACE ||
            t->type == GUMBO_NODE_CDATA)
            pa_buf_puts(b, t->v.text.text);
    }
}

static char *collapse(pa_arena_t *a, const char *s, size_t max)
{
    pa_buf_t b = PA_BUF_INIT;
    walk_t w = {.space = false};
    w.text = b;
    text_put(&w, s, strlen(s));
    char *r = fp_strcut(a, w.text.data ? w.text.data : "", w.text.len, max);
    pa_buf_free(&w.text);
    return r;
}

static bool is_inline(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_A:
    case GUMBO_TAG_ABBR:
    case GUMBO_TAG_B:
    case GUMBO_TAG_BDI:
    case GUMBO_TAG_BDO:
    case GUMBO_TAG_CITE:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_DATA:
    case GUMBO_TAG_DFN:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_FONT:
    case GUMBO_TAG_I:
    case GUMBO_TAG_KBD:
    case GUMBO_TAG_MARK:
    case GUMBO_TAG_Q:
    case GUMBO_TAG_S:
    case GUMBO_TAG_SAMP:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_SPAN:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP:
    case GUMBO_TAG_TIME:
    case GUMBO_TAG_U:
    case GUMBO_TAG_VAR: return true;
    default: return false;
    }
}

static const char *dup(form_page_t *p, const char *s)
{
    return s ? fp_utf8_fix(pa_arena_strndup(p->arena, s, 2048)) : NULL;
}

static void add_contact(form_page_t *p, const char **list, size_t *n, const char *v, size_t len)
{
    while (len && (*v == ' ')) v++, len--;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '.' || v[len - 1] == ',')) len--;
    if (!len || len > 254 || *n == FP_MAX_CONTACTS) return;
    for (size_t i = 0; i < *n; i++)
        if (strlen(list[i]) == len && strncasecmp(list[i], v, len) == 0) return;
    list[(*n)++] = fp_utf8_fix(pa_arena_strndup(p->arena, v, len));
}

/* A mailto: or tel: link's address, percent-decoded. */
static void href_contact(form_page_t *p, const char *href)
{
    bool mail = strncasecmp(href, "mailto:", 7) == 0, tel = strncasecmp(href, "tel:", 4) == 0;
    if (!mail && !tel) return;
    const char *s = href + (mail ? 7 : 4);
    char v[256];
    size_t k = 0;
    for (; *s && *s != '?' && *s != ',' && k < sizeof v - 1; s++) {
        if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char h[3] = {s[1], s[2], 0};
            v[k++] = (char)strtol(h, NULL, 16);
            s += 2;
        } else {
            v[k++] = *s;
        }
    }
    v[k] = 0;
    if (mail && (!strchr(v, '@') || strchr(v, ' '))) return;
    if (mail) add_contact(p, p->emails, &p->nemails, v, k);
    else add_contact(p, p->phones, &p->nphones, v, k);
}

/* The contact words of links, by text, aria-label, title or rel (folded). */
static const char *const contact_words[] = {
    "contact",      "kontakt",          "contacto",
    "contato",      "contatti",         "contattaci",
    "contattateci", "contactez",        "nous contacter",
    "neem contact", "contact opnemen",  "get in touch",
    "reach us",     "write to us",      "schreiben sie uns",
    "escríbenos",   "お問い合わせ",     "お問合せ",
    "お問合わせ",   "問い合わせ",       "問合せ",
    "联系我们",     "聯絡我們",         "联系",
    "связаться",    "контакты",         "свяжитесь",
    "iletişim",     "επικοινωνία",      "yhteystiedot",
    "kontaktai",    "kontakty",         "enquiry",
    "enquiries",    "inquiry",          "anfrage",
    "fale conosco", "entre em contato", "hable con nosotros",
};
static const char *const contact_slugs[] = {
    "contact",      "kontakt",      "contacto",  "contato", "contatti", "contattaci",
    "contactez",    "toiawase",     "otoiawase", "inquiry", "enquiry",  "nous-contacter",
    "get-in-touch", "fale-conosco", "svyaz",     "lianxi",
};

static int has_contact_word(const fp_index_t *x, const char *s, size_t max)
{
    if (!s || !*s) return 0;
    char f[FP_LABEL_MAX + 1];
    size_t n = strnlen(s, max < FP_LABEL_MAX ? max : FP_LABEL_MAX);
    fp_fold(f, s, n, false);
    return fp_find(x, f, n, NULL) >= 0;
}

static int link_score(const fp_index_t *x, const fp_link_t *l, bool nav)
{
    int s = 0;
    if (has_contact_word(x, l->text, FP_LABEL_MAX)) s += strlen(l->text) <= 30 ? 12 : 8;
    if (has_contact_word(x, l->aria, FP_LABEL_MAX) || has_contact_word(x, l->title, FP_LABEL_MAX))
        s += 6;
    if (l->rel && contains_ci(l->rel, "contact")) s += 4;
    /* the path (before ? and #) */
    size_t n = strcspn(l->href, "?#");
    const char *path = l->href, *sch = strstr(l->href, "://");
    if (sch && sch < l->href + n) {
        const char *sl = strchr(sch + 3, '/');
        path = sl && sl < l->href + n ? sl : l->href + n;
    }
    char f[512];
    size_t pn = (size_t)(l->href + n - path);
    if (pn > sizeof f - 1) pn = sizeof f - 1;
    fp_fold(f, path, pn, false);
    for (size_t i = 0; i < sizeof contact_slugs / sizeof *contact_slugs; i++)
        if (strstr(f, contact_slugs[i])) {
            s += 8;
            break;
        }
    if (s && nav) s += 3;
    return s;
}

static unsigned enter_element(walk_t *w, GumboNode *node, frame_t *f)
{
    form_page_t *p = w->p;
    GumboElement *e = &node->v.element;
    GumboTag tag = e->tag;
    attrs_t a;
    get_attrs(e, &a);
    unsigned flags = f->flags;
    if (a.hidden || (a.style && style_hides(a.style))) flags |= F_HIDDEN;
    if (a.aria_hidden && strcmp(a.aria_hidden, "true") == 0) flags |= F_ARIA_HIDDEN;
    unsigned err = a.klass ? class_signals(w, &a, f, &flags) : 0;
    if (a.typeform) add_signal(p, FP_SIG_EMBED, "typeform", "[data-tf-widget]", f->form);
    if (a.role && (strcmp(a.role, "navigation") == 0 || strcmp(a.role, "banner") == 0 ||
                   strcmp(a.role, "contentinfo") == 0))
        flags |= F_NAV;
    if (a.role && strcmp(a.role, "search") == 0) flags |= F_SEARCH;
    if (a.aria_invalid && strcmp(a.aria_invalid, "true") == 0) p->has_invalid = true;

    switch (tag) {
    case GUMBO_TAG_HTML:
        if (a.lang && !*p->lang) p->lang = dup(p, a.lang);
        break;
    case GUMBO_TAG_TITLE:
        if (!*p->title) {
            pa_buf_t b = PA_BUF_INIT;
            own_text(node, &b);
            if (b.len) p->title = collapse(p->arena, b.data, 512);
            pa_buf_free(&b);
        }
        return flags | F_NOTEXT;
    case GUMBO_TAG_BASE:
        if (a.href && !p->base) p->base = dup(p, a.href);
        break;
    case GUMBO_TAG_META:
        if (a.name && strcasecmp(a.name, "generator") == 0 && contains_ci(a.content, "wix.com"))
            add_signal(p, FP_SIG_EMBED, "wix", "meta generator Wix.com", -1);
        break;
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: flags |= F_NAV; break;
    case GUMBO_TAG_SCRIPT: {
        if (a.src) url_signals(p, a.src, f->form, false);
        if (a.id && strncmp(a.id, "tmpl-nf-", 8) == 0)
            add_signal(p, FP_SIG_EMBED, "ninja_forms", "script#tmpl-nf-*", f->form);
        else if (!a.src && (!a.type || !contains_ci(a.type, "json"))) {
            const GumboVector *c = &e->children;
            for (unsigned i = 0; i < c->length; i++) {
                const GumboNode *t = c->data[i];
                if (t->type == GUMBO_NODE_TEXT || t->type == GUMBO_NODE_WHITESPACE)
                    script_signals(p, t->v.text.text, strlen(t->v.text.text), f->form);
            }
        }
        return flags | F_NOTEXT;
    }
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE: return flags | F_NOTEXT;
    case GUMBO_TAG_IFRAME:
        if (a.src) url_signals(p, a.src, f->form, true);
        return flags | F_NOTEXT;
    case GUMBO_TAG_IMG:
        if (contains_ci(a.src, "captcha") || contains_ci(a.id, "captcha") ||
            contains_ci(a.klass, "captcha") || contains_ci(a.alt, "captcha")) {
            char ev[240];
            snprintf(ev, sizeof ev, "img %.200s", a.src ? a.src : "[captcha]");
            add_signal(p, FP_SIG_CAPTCHA, "image_img", ev, f->form);
        }
        if (a.alt && f->link >= 0 && !(flags & F_HIDDEN)) text_put(w, a.alt, strlen(a.alt));
        break;
    case GUMBO_TAG_A:
        if (a.href) {
            href_contact(p, a.href);
            if (ROOM(p->links, p->nlinks, w->links_cap, FP_MAX_LINKS) &&
                strncasecmp(a.href, "mailto:", 7) != 0 && strncasecmp(a.href, "tel:", 4) != 0 &&
                strncasecmp(a.href, "javascript:", 11) != 0) {
                /* the tree's strings for now: copied when the link turns out a candidate */
                p->links[p->nlinks] = (fp_link_t){.href = a.href,
                                                  .rel = a.rel,
                                                  .aria = a.aria_label,
                                                  .title = a.title,
                                                  .order = w->order++};
                f->link = (int)p->nlinks++;
            }
        }
        break;
    case GUMBO_TAG_FORM:
        if (f->form < 0 && ROOM(p->forms, p->nforms, w->forms_cap, FP_MAX_FORMS)) {
            fp_form_t *fm = &p->forms[p->nforms];
            *fm = (fp_form_t){.action = dup(p, a.action),
                              .method = dup(p, a.method),
                              .enctype = dup(p, a.enctype),
                              .id = dup(p, a.id),
                              .klass = dup(p, a.klass),
                              .name = dup(p, a.name),
                              .role = dup(p, a.role)};
            fm->search_landmark = (flags & F_SEARCH) != 0;
            fm->in_nav = (flags & F_NAV) != 0;
            fm->text_start = w->text.len;
            f->form = (int)p->nforms++;
            if (a.id && strncmp(a.id, "mktoForm_", 9) == 0)
                add_signal(p, FP_SIG_EMBED, "marketo", "form#mktoForm_*", -1);
        }
        break;
    case GUMBO_TAG_LABEL:
        if (ROOM(p->labels, p->nlabels, w->labels_cap, FP_MAX_LABELS)) {
            p->labels[p->nlabels] = (fp_label_t){.for_id = a.for_ ? dup(p, a.for_) : NULL};
            f->label = (int)p->nlabels++;
        }
        break;
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_BUTTON: {
        if ((f->form < 0 && !a.form) || !ROOM(p->fields, p->nfields, w->fields_cap, FP_MAX_FIELDS))
            break;
        fp_field_t *fl = &p->fields[p->nfields];
        char type[24] = "";
        if (a.type) {
            size_t i = 0;
            for (; a.type[i] && i < sizeof type - 1; i++)
                type[i] = (char)tolower((unsigned char)a.type[i]);
            type[i] = 0;
        }
        *fl = (fp_field_t){.form = f->form, .wrap_label = f->label, .maxlength = -1};
        fl->d.tag = gumbo_normalized_tagname(tag);
        fl->d.type = a.type ? fp_utf8_fix(pa_arena_strdup(p->arena, type)) : NULL;
        fl->d.name = dup(p, a.name);
        fl->d.id = dup(p, a.id);
        fl->d.autocomplete = dup(p, a.autocomplete);
        fl->d.aria_label = dup(p, a.aria_label);
        fl->d.placeholder = dup(p, a.placeholder);
        fl->d.klass = dup(p, a.klass);
        fl->d.hidden_by_css = (flags & (F_HIDDEN | F_CSSCLS)) != 0;
        fl->d.tabindex = a.tabindex ? strtol(a.tabindex, NULL, 10) : 0;
        fl->form_attr = dup(p, a.form);
        fl->maxlength = a.maxlength ? strtol(a.maxlength, NULL, 10) : -1;
        fl->required = a.required || (a.aria_required && strcmp(a.aria_required, "true") == 0) ||
                       (flags & F_REQ);
        fl->checked = a.checked;
        fl->disabled = a.disabled;
        fl->aria_invalid = a.aria_invalid && strcmp(a.aria_invalid, "true") == 0;
        fl->aria_hidden = (flags & F_ARIA_HIDDEN) != 0;
        fl->text_at = w->text.len;
        if (tag == GUMBO_TAG_TEXTAREA) {
            pa_buf_t b = PA_BUF_INIT;
            own_text(node, &b);
            /* the parser drops a newline right after <textarea> already */
            fl->value = fp_utf8_fix(pa_arena_strndup(p->arena, b.data ? b.data : "", 65536));
            pa_buf_free(&b);
            flags |= F_NOTEXT;
        } else {
            fl->value = a.value ? fp_utf8_fix(pa_arena_strndup(p->arena, a.value, 65536)) : NULL;
        }
        if (tag == GUMBO_TAG_SELECT) {
            fl->opt0 = p->noptions;
            f->select = (int)p->nfields;
            fl->d.type = a.multiple ? "select-multiple" : "select-one";
        }
        if (tag == GUMBO_TAG_BUTTON) f->field = (int)p->nfields;
        const char *n = a.name ? a.name : "", *id = a.id ? a.id : "";
        if (strstr(n, "g-recaptcha-response") || strstr(n, "_wpcf7_recaptcha_response"))
            add_signal(p, FP_SIG_CAPTCHA, strstr(n, "_wpcf7") ? "recaptcha_v3" : "recaptcha_v2",
                       strstr(n, "_wpcf7") ? "input[name=_wpcf7_recaptcha_response]"
                                           : "textarea[name=g-recaptcha-response]",
                       f->form);
        if (strstr(n, "h-captcha-response"))
            add_signal(p, FP_SIG_CAPTCHA, "hcaptcha", "[name=h-captcha-response]", f->form);
        if (strstr(n, "cf-turnstile-response"))
            add_signal(p, FP_SIG_CAPTCHA, "turnstile", "[name=cf-turnstile-response]", f->form);
        if (strstr(n, "frc-captcha-solution"))
            add_signal(p, FP_SIG_CAPTCHA, "friendly_captcha", "[name=frc-captcha-solution]",
                       f->form);
        if ((contains_ci(n, "captcha") || contains_ci(id, "captcha")) && tag == GUMBO_TAG_INPUT &&
            strcmp(type, "hidden") != 0) {
            char ev[120];
            snprintf(ev, sizeof ev, "input[name=%.80s]", n);
            add_signal(p, FP_SIG_CAPTCHA, "image_input", ev, f->form);
        }
        p->nfields++;
        break;
    }
    case GUMBO_TAG_OPTION:
        if (f->select >= 0 && ROOM(p->options, p->noptions, w->options_cap, FP_MAX_OPTIONS)) {
            pa_buf_t b = PA_BUF_INIT;
            own_text(node, &b);
            fp_option_t *o = &p->options[p->noptions++];
            o->text = collapse(p->arena, b.data ? b.data : "", FP_LABEL_MAX);
            o->value = a.value ? dup(p, a.value) : o->text; /* no value: its text */
            o->selected = a.selected;
            o->disabled = a.disabled;
            p->fields[f->select].nopt++;
            pa_buf_free(&b);
        }
        return flags | F_NOTEXT;
    default: break;
    }
    /* validation messages (the judge's): shown, non-empty, outermost */
    if ((a.role && strcmp(a.role, "alert") == 0) ||
        (a.id && (strcmp(a.id, "error_explanation") == 0 || strcmp(a.id, "errorExplanation") == 0)))
        err |= F_ERR_MSG; /* Rails' scaffold puts its list of errors in #error_explanation */
    if (err && !(flags & (F_HIDDEN | F_CSSCLS | F_ERR)))
        flags |= F_ERR | (err & F_ERR_MSG ? F_ERR_MSG : F_ERR_SOFT);
    return flags;
}

static void leave_element(walk_t *w, frame_t *f)
{
    form_page_t *p = w->p;
    GumboTag tag = f->node->v.element.tag;
    const char *t = w->text.data ? w->text.data + f->text_start : "";
    size_t tn = w->text.len - f->text_start;
    frame_t *parent = f - 1;
    if (tag == GUMBO_TAG_A && f->link >= 0 && f->link != parent->link) {
        fp_link_t *l = &p->links[f->link];
        char text[FP_LABEL_MAX + 1];
        size_t k = tn < FP_LABEL_MAX ? tn : FP_LABEL_MAX;
        memcpy(text, t, k);
        text[k] = 0;
        l->text = text;
        l->score = link_score(&w->contact, l, (f->flags & F_NAV) != 0);
        if (l->score) {
            l->text = fp_strcut(p->arena, t, tn, FP_LABEL_MAX);
            l->href = dup(p, l->href), l->rel = dup(p, l->rel);
            l->aria = dup(p, l->aria), l->title = dup(p, l->title);
        } else { /* not a candidate: nothing may point into the tree once it is gone */
            *l = (fp_link_t){.score = 0};
            if ((size_t)f->link == p->nlinks - 1) p->nlinks--;
        }
    } else if (tag == GUMBO_TAG_LABEL && f->label >= 0 && f->label != parent->label) {
        p->labels[f->label].text = fp_strcut(p->arena, t, tn, FP_LABEL_MAX);
    } else if (tag == GUMBO_TAG_FORM && f->form >= 0 && f->form != parent->form) {
        fp_form_t *fm = &p->forms[f->form];
        fm->text_end = w->text.len;
    } else if (tag == GUMBO_TAG_BUTTON && f->field >= 0 && f->field != parent->field) {
        fp_field_t *fl = &p->fields[f->field];
        if (tn && !fl->d.aria_label) fl->d.aria_label = fp_strcut(p->arena, t, tn, FP_LABEL_MAX);
    }
    if (f->flags & (F_ERR_SOFT | F_ERR_MSG)) {
        const char **list = f->flags & F_ERR_SOFT ? p->soft_errors : p->errors;
        size_t *n = f->flags & F_ERR_SOFT ? &p->nsoft_errors : &p->nerrors;
        size_t mn = tn < 200 ? tn : 200;
        char folded[201];
        fp_fold(folded, t, mn, false);
        /* an alert that says thanks is not an error */
        if (*n < FP_MAX_ERRORS && fp_find(&w->success, folded, mn, NULL) < 0) {
            char *msg = fp_strcut(p->arena, t, tn, 200);
            bool seen = !*msg;
            for (size_t i = 0; i < *n; i++) seen = seen || strcmp(list[i], msg) == 0;
            if (!seen) list[(*n)++] = msg;
        }
    }
}

static void walk(walk_t *w, GumboNode *root)
{
    fp_index(&w->contact, contact_words, sizeof contact_words / sizeof *contact_words);
    fp_index(&w->success, fp_success, fp_nsuccess);
    w->cap = 64;
    w->st = pa_malloc(w->cap * sizeof *w->st);
    w->st[0] =
        (frame_t){.node = root, .form = -1, .label = -1, .link = -1, .field = -1, .select = -1};
    w->depth = 1;
    while (w->depth) {
        frame_t *f = &w->st[w->depth - 1];
        const GumboVector *kids = f->node->type == GUMBO_NODE_DOCUMENT
                                      ? &f->node->v.document.children
                                      : &f->node->v.element.children;
        if (f->child >= kids->length || w->depth > FP_MAX_DEPTH) {
            if (f->node->type != GUMBO_NODE_DOCUMENT) {
                leave_element(w, f);
                if (!is_inline(f->node->v.element.tag)) w->space = true;
            }
            w->depth--;
            continue;
        }
        GumboNode *n = kids->data[f->child++];
        if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE ||
            n->type == GUMBO_NODE_CDATA) {
            if (!(f->flags & (F_HIDDEN | F_NOTEXT)))
                text_put(w, n->v.text.text, strlen(n->v.text.text));
            continue;
        }
        if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE) continue;
        if (w->depth == w->cap) {
            w->cap *= 2;
            w->st = pa_realloc(w->st, w->cap * sizeof *w->st);
            f = &w->st[w->depth - 1];
        }
        frame_t *c = &w->st[w->depth];
        *c = *f;
        c->node = n, c->child = 0, c->flags &= ~(unsigned)(F_ERR_SOFT | F_ERR_MSG);
        if (!is_inline(n->v.element.tag)) w->space = true;
        c->flags = enter_element(w, n, c);
        if (n->v.element.tag == GUMBO_TAG_BR) w->space = true;
        c->text_start = w->text.len;
        w->depth++;
    }
    free(w->st);
}

/* ---- after the walk: labels, text, contacts ------------------------------------------------ */

static bool email_char(unsigned char c)
{
    return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static void text_emails(form_page_t *p, const char *t, size_t n)
{
    for (const char *at = t; (at = memchr(at, '@', n - (size_t)(at - t))); at++) {
        const char *s = at, *e = at + 1;
        while (s > t && email_char((unsigned char)s[-1]) && at - s < 64) s--;
        while (s < at && (*s == '.' || *s == '-')) s++;
        const char *dot = NULL;
        while (e < t + n && (alnum((unsigned char)*e) || *e == '-' || *e == '.')) {
            if (*e == '.') dot = e;
            e++;
        }
        while (e > at + 1 && e[-1] == '.') e--;
        if (s == at || !dot || dot >= e - 2) continue;
        size_t tld = 0;
        for (const char *c = dot + 1; c < e; c++) tld += isalpha((unsigned char)*c) != 0;
        if (tld != (size_t)(e - dot - 1)) continue;
        static const char *const files[] = {"png", "jpg",  "jpeg", "gif",
                                            "svg", "webp", "css",  "js"};
        bool file = false;
        for (size_t i = 0; i < sizeof files / sizeof *files; i++)
            file = file || ((size_t)(e - dot - 1) == strlen(files[i]) &&
                            strncasecmp(dot + 1, files[i], strlen(files[i])) == 0);
        if (!file) add_contact(p, p->emails, &p->nemails, s, (size_t)(e - s));
    }
}

/* A phone number starting at s: digits with blanks, dashes, dots, slashes and parentheses, 7 to 15
 * digits. Its length, or 0. */
static size_t phone_at(const char *s, size_t n)
{
    size_t i = 0, digits = 0, end = 0;
    if (i < n && s[i] == '+') i++;
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') digits++, end = i + 1;
        else if (c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')') {
            if (c == ' ' && i + 1 < n && !(isdigit((unsigned char)s[i + 1]) || s[i + 1] == '('))
                break;
        } else break;
        if (digits > 15) return 0;
    }
    return digits >= 7 && digits <= 15 ? end : 0;
}

static void text_phones(form_page_t *p, const char *t, const char *folded, size_t n)
{
    static const char *const kws[] = {"tel",      "phone",    "telefon",  "téléphone", "teléfono",
                                      "telefone", "telefono", "telefoon", "電話",      "call us",
                                      "mobile",   "handy",    "fon",      "tél",       "телефон"};
    fp_index_t x;
    fp_index(&x, kws, sizeof kws / sizeof *kws);
    size_t off = 0;
    while (off < n && p->nphones < FP_MAX_CONTACTS) {
        size_t at;
        int k = fp_find(&x, folded + off, n - off, &at);
        if (k < 0) break;
        size_t i = off + at + strlen(kws[k]), lim = i + 24 < n ? i + 24 : n;
        while (i < lim && !(isdigit((unsigned char)t[i]) || t[i] == '+' || t[i] == '(')) i++;
        size_t len = i < lim ? phone_at(t + i, n - i) : 0;
        if (len) add_contact(p, p->phones, &p->nphones, t + i, len);
        off = i + (len ? len : 1);
    }
    for (const char *s = t;
         (s = memchr(s, '+', n - (size_t)(s - t))) && p->nphones < FP_MAX_CONTACTS; s++) {
        if (s > t && alnum((unsigned char)s[-1])) continue;
        size_t len = phone_at(s, n - (size_t)(s - t));
        if (len && isdigit((unsigned char)s[1])) add_contact(p, p->phones, &p->nphones, s, len);
    }
}

static void finish(form_page_t *p, walk_t *w)
{
    const char *t = w->text.data ? w->text.data : "";
    size_t n = w->text.len;
    /* fields: their labels (for= first, then the label around them) and the text before them */
    for (size_t i = 0; i < p->nfields; i++) {
        fp_field_t *f = &p->fields[i];
        if (f->d.id && *f->d.id)
            for (size_t j = 0; j < p->nlabels && !f->d.label; j++)
                if (p->labels[j].for_id && strcmp(p->labels[j].for_id, f->d.id) == 0)
                    f->d.label = p->labels[j].text;
        if (!f->d.label && f->wrap_label >= 0) f->d.label = p->labels[f->wrap_label].text;
        if (f->d.label && !*f->d.label) f->d.label = NULL;
        /* the text since the previous field of its form (or the form's start) */
        size_t at = f->text_at, from = at > FP_NEAR_MAX ? at - FP_NEAR_MAX : 0, prev = 0;
        for (size_t j = i; j-- > 0 && !prev;)
            if (p->fields[j].form == f->form) prev = p->fields[j].text_at;
        if (!prev && f->form >= 0) prev = p->forms[f->form].text_start;
        if (prev > from && prev <= at) from = prev;
        while (from < at && ((unsigned char)t[from] & 0xC0) == 0x80) from++;
        f->near = fp_strcut(p->arena, t + from, at - from, FP_NEAR_MAX);
        f->d.near = *f->near ? f->near : NULL;
        if (f->form < 0 && f->form_attr)
            for (size_t j = 0; j < p->nforms; j++)
                if (p->forms[j].id && strcmp(p->forms[j].id, f->form_attr) == 0) f->form = (int)j;
    }
    /* each form's wording: the text just before it and inside it, folded */
    for (size_t i = 0; i < p->nforms; i++) {
        fp_form_t *fm = &p->forms[i];
        size_t s = fm->text_start > 300 ? fm->text_start - 300 : 0,
               e = fm->text_end > fm->text_start + 4096 ? fm->text_start + 4096 : fm->text_end;
        if (e < s || e > n) e = n;
        while (s < e && ((unsigned char)t[s] & 0xC0) == 0x80) s++;
        char *c = fp_strcut(p->arena, t + s, e - s, 4400);
        size_t cn = strlen(c);
        char *fo = pa_arena_alloc(p->arena, cn + 1);
        fp_fold(fo, c, cn, false);
        fm->text = fo;
    }
    char *folded = pa_malloc(n + 1);
    fp_fold(folded, t, n, false);
    text_emails(p, t, n);
    text_phones(p, t, folded, n);
    p->text = fp_strcut(p->arena, t, n, FP_TEXT_MAX);
    p->text_len = strlen(p->text);
    free(folded);
}

/* ---- the page ----------------------------------------------------------------------------- */

form_page_t *form_page_parse(const char *body, size_t len, const char *content_type,
                             const char *url, char *err, size_t errlen)
{
    if (len > FP_MAX_BYTES) {
        snprintf(err, errlen, "the page is %zu bytes, over the %u-byte bound", len, FP_MAX_BYTES);
        return NULL;
    }
    if (!body) body = "", len = 0;
    char *dec = NULL;
    const char *charset;
    size_t dlen = fp_decode(body, len, content_type, &dec, &charset);
    const char *html = dec ? dec : body;

    bump_t bump = {NULL};
    GumboOptions opt = kGumboDefaultOptions;
    opt.allocator = bump_alloc;
    opt.deallocator = bump_free;
    opt.userdata = &bump;
    opt.max_errors = 0;
    GumboOutput *out = gumbo_parse_with_options(&opt, html, dlen);

    form_page_t *p = pa_calloc(1, sizeof *p);
    p->arena = pa_arena_new();
    p->url = pa_arena_strdup(p->arena, url ? url : "");
    p->charset = charset;
    p->lang = p->title = "";
    walk_t w = {.p = p};
    if (out) walk(&w, out->document);
    finish(p, &w);
    pa_buf_free(&w.text);
    bump_destroy(&bump); /* the tree, every piece of it */
    free(dec);
    /* the arrays, moved into the arena (the labels are in their fields by now) */
#define KEEP(arr, n)                                                                               \
    do {                                                                                           \
        void *k = pa_arena_alloc(p->arena, ((n) + 1) * sizeof *(arr));                             \
        if (n) memcpy(k, arr, (n) * sizeof *(arr));                                                \
        free(arr);                                                                                 \
        arr = k;                                                                                   \
    } while (0)
    KEEP(p->forms, p->nforms);
    KEEP(p->fields, p->nfields);
    KEEP(p->options, p->noptions);
    KEEP(p->links, p->nlinks);
#undef KEEP
    free(p->labels);
    p->labels = NULL;
    p->nlabels = 0;
    p->kinds = pa_arena_alloc(p->arena, (p->nfields + 1) * sizeof *p->kinds);
    for (size_t i = 0; i < p->nfields; i++) p->kinds[i] = (form_kind_t)-1;
    /* <base href> resolved against the page; links resolve against it */
    const char *base = p->url;
    if (p->base) {
        char *b = pa_http_resolve(p->url, p->base);
        if (b) base = pa_arena_strdup(p->arena, b);
        free(b);
    }
    p->base = base;
    return p;
}

void form_page_free(form_page_t **pp)
{
    form_page_t *p = *pp;
    if (!p) return;
    pa_arena_destroy(&p->arena);
    free(p);
    *pp = NULL;
}

const char *form_page_url(const form_page_t *p)
{
    return p->url;
}
const char *form_page_charset(const form_page_t *p)
{
    return p->charset;
}

const char *form_page_encode(form_page_t *p, const char *text, size_t *len)
{
    size_t n = strlen(text), k;
    char *e = fp_encode(p->charset, text, n, &k);
    if (!e) {
        *len = n;
        return text;
    }
    char *kept = pa_arena_alloc(p->arena, k + 1);
    memcpy(kept, e, k + 1);
    free(e);
    *len = k;
    return kept;
}
const char *form_page_lang(const form_page_t *p)
{
    return p->lang;
}
const char *form_page_title(const form_page_t *p)
{
    return p->title;
}
const char *form_page_text(const form_page_t *p)
{
    return p->text;
}
size_t form_page_nforms(const form_page_t *p)
{
    return p->nforms;
}
size_t form_page_memory(const form_page_t *p)
{
    return sizeof *p + pa_arena_used(p->arena);
}

/* ---- contact links ------------------------------------------------------------------------ */

const char *fp_resolve(form_page_t *p, const char *href)
{
    char *u = pa_http_resolve(p->base, href);
    if (!u) return NULL;
    const char *r = pa_arena_strdup(p->arena, u);
    free(u);
    return r;
}

/* host and port of an absolute URL (host lowercased, without "www."); false when it has none. */
static bool host_port(const char *url, char *host, size_t hn, int *port)
{
    const char *s = strstr(url, "://");
    if (!s) return false;
    bool https = strncasecmp(url, "https", 5) == 0;
    s += 3;
    size_t len = strcspn(s, "/?#");
    const char *at = memchr(s, '@', len);
    if (at) len -= (size_t)(at + 1 - s), s = at + 1;
    const char *colon = NULL;
    if (*s == '[') {
        const char *rb = memchr(s, ']', len);
        if (rb && rb + 1 < s + len && rb[1] == ':') colon = rb + 1;
    } else {
        colon = memchr(s, ':', len);
    }
    size_t h = colon ? (size_t)(colon - s) : len;
    *port = colon ? atoi(colon + 1) : (https ? 443 : 80);
    if (colon && (size_t)(colon + 1 - s) == len) *port = https ? 443 : 80;
    if (h >= 4 && strncasecmp(s, "www.", 4) == 0) s += 4, h -= 4;
    if (!h || h >= hn) return false;
    for (size_t i = 0; i < h; i++) host[i] = (char)tolower((unsigned char)s[i]);
    host[h] = 0;
    return true;
}

static bool same_site(const char *a, const char *b)
{
    char ha[256], hb[256];
    int pa_, pb;
    if (!host_port(a, ha, sizeof ha, &pa_) || !host_port(b, hb, sizeof hb, &pb)) return false;
    /* http and https of one host are one site; other ports are other sites */
    bool defa = pa_ == 80 || pa_ == 443, defb = pb == 80 || pb == 443;
    return strcmp(ha, hb) == 0 && (pa_ == pb || (defa && defb));
}

static int by_score(const void *a, const void *b)
{
    const fp_link_t *x = *(const fp_link_t *const *)a, *y = *(const fp_link_t *const *)b;
    if (x->score != y->score) return y->score - x->score;
    return x->order < y->order ? -1 : x->order > y->order;
}

size_t form_page_contact_links(form_page_t *p, const char **urls, size_t max)
{
    if (!p->contact_urls) {
        const fp_link_t **order = pa_malloc((p->nlinks + 1) * sizeof *order);
        for (size_t i = 0; i < p->nlinks; i++) order[i] = &p->links[i];
        qsort(order, p->nlinks, sizeof *order, by_score);
        p->contact_urls = pa_arena_alloc(p->arena, (p->nlinks + 1) * sizeof *p->contact_urls);
        size_t self = strcspn(p->url, "#");
        for (size_t i = 0; i < p->nlinks; i++) {
            if (!order[i]->score) continue;
            char *u = pa_http_resolve(p->base, order[i]->href);
            if (!u) continue;
            u[strcspn(u, "#")] = 0;
            bool keep =
                same_site(p->url, u) && !(strlen(u) == self && strncmp(u, p->url, self) == 0);
            for (size_t j = 0; keep && j < p->ncontact_urls; j++)
                keep = strcmp(p->contact_urls[j], u) != 0;
            if (keep) p->contact_urls[p->ncontact_urls++] = pa_arena_strdup(p->arena, u);
            free(u);
        }
        free(order);
    }
    size_t n = p->ncontact_urls < max ? p->ncontact_urls : max;
    for (size_t i = 0; i < n; i++) urls[i] = p->contact_urls[i];
    return n;
}

/* ---- analysis ----------------------------------------------------------------------------- */

bool fp_is_math(const char *s)
{
    if (!s) return false;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c) || (c > s && isdigit((unsigned char)c[-1]))) continue;
        const char *d = c;
        while (isdigit((unsigned char)*d)) d++;
        if (d - c > 2) continue;
        while (*d == ' ') d++;
        if (*d == '+' || *d == '*' || *d == 'x' || *d == '-' || *d == '/') d++;
        else if ((unsigned char)d[0] == 0xC3 &&
                 ((unsigned char)d[1] == 0x97 || (unsigned char)d[1] == 0xB7))
            d += 2; /* × ÷ */
        else if (strncasecmp(d, "plus", 4) == 0 || strncasecmp(d, "minus", 5) == 0)
            d += d[0] == 'p' || d[0] == 'P' ? 4 : 5;
        else continue;
        while (*d == ' ') d++;
        const char *e = d;
        while (isdigit((unsigned char)*e)) e++;
        if (e > d && e - d <= 2) return true;
    }
    return false;
}

/* Thanks for a message, in the languages the worker meets (folded). */
const char *const fp_success[] = {
    "thank you",
    "thanks for",
    "thanks!",
    "message has been sent",
    "message was sent",
    "successfully sent",
    "sent successfully",
    "we will get back",
    "we'll get back",
    "we will be in touch",
    "we'll be in touch",
    "received your message",
    "has been received",
    "merci",
    "message a été envoyé",
    "message envoyé",
    "danke",
    "vielen dank",
    "nachricht wurde gesendet",
    "erfolgreich gesendet",
    "erfolgreich versendet",
    "gracias",
    "mensaje enviado",
    "mensaje ha sido enviado",
    "grazie",
    "messaggio inviato",
    "messaggio è stato inviato",
    "bedankt",
    "bericht is verzonden",
    "obrigado",
    "obrigada",
    "mensagem enviada",
    "mensagem foi enviada",
    "ありがとうございました",
    "ありがとうございます",
    "送信しました",
    "送信完了",
    "送信されました",
    "受け付けました",
    "受付けました",
    "感谢",
    "谢谢",
    "已发送",
    "спасибо",
    "сообщение отправлено",
    "\"success\":true",
    "mail_sent",
};
const size_t fp_nsuccess = sizeof fp_success / sizeof *fp_success;

static const char *const opt_outs[] = {
    "no solicitation",
    "no soliciting",
    "no sales call",
    "no sales email",
    "no sales e-mail",
    "no sales pitch",
    "no sales inquir",
    "no sales enquir",
    "no unsolicited",
    "we do not accept unsolicited",
    "we do not accept solicitation",
    "do not accept sales",
    "please do not send sales",
    "please no sales",
    "no marketing email",
    "no cold call",
    "no cold email",
    "no cold outreach",
    "no vendors",
    "no agencies",
    "not interested in sales",
    "solicitations are not",
    "solicitors",
    "keine werbung",
    "keine akquise",
    "keine kaltakquise",
    "keine werbeanfragen",
    "keine verkaufsanfragen",
    "keine vertriebsanfragen",
    "werbung unerwünscht",
    "akquise unerwünscht",
    "wir wünschen keine werbung",
    "pas de démarchage",
    "pas de sollicitation",
    "aucun démarchage",
    "démarchage interdit",
    "démarchage commercial interdit",
    "refusons tout démarchage",
    "pas de prospection",
    "no se aceptan ofertas comerciales",
    "no aceptamos ofertas comerciales",
    "no se admiten ofertas comerciales",
    "abstenerse comerciales",
    "no deseamos recibir ofertas",
    "non si accettano proposte commerciali",
    "no proposte commerciali",
    "astenersi venditori",
    "no offerte commerciali",
    "geen acquisitie",
    "acquisitie niet gewenst",
    "acquisitie wordt niet op prijs gesteld",
    "geen reclame",
    "não aceitamos propostas comerciais",
    "sem propostas comerciais",
    "não aceitamos publicidade",
    "営業お断り",
    "セールスお断り",
    "勧誘お断り",
    "営業目的のお問い合わせ",
    "営業目的でのお問い合わせ",
    "営業のご連絡はご遠慮",
    "営業メールはお断り",
    "営業・勧誘",
    "谢绝推销",
    "拒绝推销",
    "谢绝广告",
};

/* What a form is, as far as choosing goes. */
typedef enum { FT_CONTACT, FT_SEARCH, FT_LOGIN, FT_NEWSLETTER, FT_COMMENT, FT_OTHER } ftype_t;
static const char *const ftype_name[] = {"a contact form",          "a search form",
                                         "a login or sign-up form", "a newsletter form",
                                         "a comment form",          "not a contact form"};

static ftype_t form_type(form_page_t *p, size_t fi, int *score, char *why, size_t whyn)
{
    fp_form_t *fm = &p->forms[fi];
    bool msg = false, email = false, name = false, password = false, search_input = false;
    size_t visible = 0, textareas = 0, comment_ta = 0, author = 0;
    for (size_t i = 0; i < p->nfields; i++) {
        if (p->fields[i].form != (int)fi) continue;
        fp_field_t *f = &p->fields[i];
        form_kind_t k = fp_field_kind(p, i);
        const char *type = f->d.type ? f->d.type : "";
        const char *n = f->d.name ? f->d.name : "";
        if (strcmp(type, "password") == 0) password = true;
        if (strcmp(type, "search") == 0 ||
            (strcmp(f->d.tag, "input") == 0 &&
             (strcmp(n, "q") == 0 || strcmp(n, "s") == 0 || strcmp(n, "query") == 0 ||
              strcmp(n, "search") == 0 || strcmp(n, "keywords") == 0)))
            search_input = true;
        if (k == FORM_KIND_HONEYPOT || k == FORM_KIND_HIDDEN || k == FORM_KIND_SUBMIT) continue;
        if (strcmp(f->d.tag, "textarea") == 0) {
            textareas++;
            if (strcmp(n, "comment") == 0) comment_ta++;
        }
        if (strcmp(n, "author") == 0 || strcmp(n, "url") == 0) author++;
        if (strcmp(f->d.tag, "input") == 0 && k != FORM_KIND_CHECKBOX && k != FORM_KIND_CONSENT &&
            k != FORM_KIND_CAPTCHA)
            visible++;
        if (k == FORM_KIND_MESSAGE && strcmp(f->d.tag, "textarea") == 0) msg = true;
        if (k == FORM_KIND_EMAIL) email = true;
        if (k == FORM_KIND_FULL_NAME || k == FORM_KIND_FIRST_NAME || k == FORM_KIND_LAST_NAME)
            name = true;
    }
    const char *action = fm->action ? fm->action : "";
    char idc[512];
    snprintf(idc, sizeof idc, "%s %s %s %s", fm->id ? fm->id : "", fm->klass ? fm->klass : "",
             fm->name ? fm->name : "", action);
    fp_fold(idc, idc, strlen(idc), false);
    *score = 0;
    if (password) return FT_LOGIN;
    if (fm->search_landmark || search_input || (fm->role && strcmp(fm->role, "search") == 0) ||
        (strstr(idc, "search") && !textareas))
        return FT_SEARCH;
    if (strstr(idc, "commentform") || strstr(idc, "comment-form") ||
        strstr(idc, "wp-comments-post") || (comment_ta && author))
        return FT_COMMENT;
    static const char *const subscribe[] = {"subscribe",  "newsletter", "mailchimp", "mc-embedded",
                                            "abonnieren", "abonner",    "suscrib",   "nieuwsbrief",
                                            "iscriviti",  "inscrever",  "メルマガ",  "訂閱"};
    bool sub = false;
    for (size_t i = 0; i < sizeof subscribe / sizeof *subscribe; i++)
        sub = sub || strstr(idc, subscribe[i]) || (!textareas && strstr(fm->text, subscribe[i]));
    if (!textareas && email && (visible <= 2 || sub)) return FT_NEWSLETTER;
    if (strncasecmp(action, "mailto:", 7) == 0 || strncasecmp(action, "javascript:", 11) == 0) {
        snprintf(why, whyn, "its action is not an http(s) URL");
        return FT_OTHER;
    }
    if (!msg || !(email || name)) {
        snprintf(why, whyn, "%s", !msg ? "no message textarea" : "no e-mail or name field");
        return FT_OTHER;
    }
    *score = 10 + (email ? 3 : 0) + (name ? 2 : 0) +
             (strstr(idc, "contact") || strstr(idc, "kontakt") || strstr(idc, "wpcf7") ? 3 : 0) -
             (fm->in_nav ? 2 : 0);
    snprintf(why, whyn, "a message textarea and %s",
             email && name ? "e-mail and name fields"
             : email       ? "an e-mail field"
                           : "a name field");
    return FT_CONTACT;
}

static const char *pick_captcha(form_page_t *p, int form, const char **evidence)
{
    /* a widget or field in the chosen form (or outside every form) first, then page scripts
     * of a kind no other form's widget explains */
    static const char *const order[] = {"recaptcha_v2",     "hcaptcha",     "turnstile",
                                        "friendly_captcha", "recaptcha_v3", "math"};
    for (size_t o = 0; o < sizeof order / sizeof *order; o++)
        for (size_t i = 0; i < p->nsignals; i++) {
            fp_signal_t *s = &p->signals[i];
            if (s->type == FP_SIG_CAPTCHA && strcmp(s->kind, order[o]) == 0 &&
                (s->form == form || s->form < 0 || form < 0))
                return *evidence = s->evidence, s->kind;
        }
    /* an image challenge: a captcha image and a captcha input */
    const fp_signal_t *img = NULL, *input = NULL;
    for (size_t i = 0; i < p->nsignals; i++) {
        fp_signal_t *s = &p->signals[i];
        if (s->type != FP_SIG_CAPTCHA || !(s->form == form || s->form < 0 || form < 0)) continue;
        if (strcmp(s->kind, "image_img") == 0) img = s;
        if (strcmp(s->kind, "image_input") == 0) input = s;
    }
    if (img && input) return *evidence = img->evidence, "image";
    /* a maths question by a field */
    for (size_t i = 0; i < p->nfields; i++) {
        fp_field_t *f = &p->fields[i];
        if ((form >= 0 && f->form != form) || fp_field_kind(p, i) != FORM_KIND_CAPTCHA) continue;
        const char *srcs[] = {f->d.label, f->d.placeholder, f->d.aria_label, f->near};
        for (size_t j = 0; j < 4; j++)
            if (fp_is_math(srcs[j])) {
                char ev[240];
                snprintf(ev, sizeof ev, "a maths question by field %s: %.160s",
                         f->d.name ? f->d.name : "?", srcs[j]);
                *evidence = fp_utf8_fix(pa_arena_strdup(p->arena, ev));
                return "math";
            }
    }
    for (size_t o = 0; o < sizeof order / sizeof *order; o++)
        for (size_t i = 0; i < p->nsignals; i++) {
            fp_signal_t *s = &p->signals[i];
            if (s->type != FP_SIG_CAPTCHA_SCRIPT || strcmp(s->kind, order[o]) != 0) continue;
            bool elsewhere = false;
            for (size_t j = 0; j < p->nsignals; j++)
                elsewhere = elsewhere || (p->signals[j].type == FP_SIG_CAPTCHA &&
                                          strcmp(p->signals[j].kind, s->kind) == 0 &&
                                          p->signals[j].form >= 0 && p->signals[j].form != form);
            if (!elsewhere || strcmp(s->kind, "recaptcha_v3") == 0)
                return *evidence = s->evidence, s->kind;
        }
    return NULL;
}

void form_page_analyze(form_page_t *p, form_analysis_t *out)
{
    if (p->analyzed) {
        *out = p->analysis;
        return;
    }
    form_analysis_t *a = &p->analysis;
    memset(a, 0, sizeof *a);
    a->form = -1;
    pa_buf_t why = PA_BUF_INIT, rejected = PA_BUF_INIT;
    int best = -1, best_score = 0;
    char best_why[160] = "";
    for (size_t i = 0; i < p->nforms; i++) {
        int score;
        char w[160] = "";
        ftype_t t = form_type(p, i, &score, w, sizeof w);
        if (t == FT_CONTACT && score > best_score) {
            if (best >= 0)
                pa_buf_printf(&rejected, "; form %d is another contact form, ranked lower",
                              best + 1);
            best = (int)i, best_score = score;
            snprintf(best_why, sizeof best_why, "%s", w);
        } else if (t == FT_CONTACT) {
            pa_buf_printf(&rejected, "; form %zu is another contact form, ranked lower", i + 1);
        } else if (rejected.len < 400) {
            pa_buf_printf(&rejected, "; form %zu is %s%s%s", i + 1, ftype_name[t], *w ? ": " : "",
                          w);
        }
    }
    const char *embed = NULL, *embed_ev = NULL;
    for (size_t i = 0; i < p->nsignals && !embed; i++)
        if (p->signals[i].type == FP_SIG_EMBED)
            embed = p->signals[i].kind, embed_ev = p->signals[i].evidence;
    if (best >= 0) {
        a->verdict = FORM_VERDICT_CONTACT;
        a->form = best;
        pa_buf_printf(&why, "form %d: %s%s", best + 1, best_why,
                      rejected.data ? rejected.data : "");
    } else if (embed) {
        a->verdict = FORM_VERDICT_JS_REQUIRED;
        a->embed = embed;
        pa_buf_printf(&why, "no contact form in the markup, but a %s embed (%s)%s", embed, embed_ev,
                      rejected.data ? rejected.data : "");
    } else {
        a->verdict = FORM_VERDICT_NO_FORM;
        if (!p->nforms) pa_buf_puts(&why, "the page has no form");
        else pa_buf_printf(&why, "no contact form%s", rejected.data ? rejected.data : "");
    }
    a->why = fp_utf8_fix(pa_arena_strdup(p->arena, why.data ? why.data : ""));
    pa_buf_free(&why);
    pa_buf_free(&rejected);
    a->captcha = pick_captcha(p, a->form, &a->captcha_evidence);
    size_t at;
    char *folded = fp_folded(p);
    int k = fp_find_phrase(folded, p->text_len, opt_outs, sizeof opt_outs / sizeof *opt_outs, &at);
    free(folded);
    if (k >= 0) { /* the phrase as found, to the end of its sentence */
        size_t n = strlen(opt_outs[k]);
        while (at + n < p->text_len && n < 120 && !strchr(".!\n", p->text[at + n])) n++;
        a->opt_out = fp_strcut(p->arena, p->text + at, n, 120);
    }
    a->emails = p->emails, a->nemails = p->nemails;
    a->phones = p->phones, a->nphones = p->nphones;
    p->analyzed = true;
    *out = *a;
}
