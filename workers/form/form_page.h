/* The form worker's pure HTML core: a fetched page (any of the charsets sites use) parsed with
 * gumbo (HTML5, tolerant of broken markup) into what the worker needs: the page's forms and their
 * fields, its links to a contact page, its visible text, and the judgements made on them (which
 * form is the contact form and why, a JavaScript-only embed, a CAPTCHA, an opt-out notice, the
 * e-mail addresses and phone numbers on the page, the answer to a post).
 *
 * Everything a function returns points into the page and lives until form_page_free: one owner.
 * No function does I/O, reads the environment or keeps global state; all are bounded (input
 * size, nesting depth, number of forms, fields, links, options and text kept) and fuzzed
 * (tests/fuzz/fuzz_form_page.c). */
#ifndef FORM_PAGE_H
#define FORM_PAGE_H
#include <stdbool.h>
#include <stddef.h>

typedef struct form_page form_page_t;

/* Parses body[0..len) fetched from url (absolute; links, <base href> and actions are resolved
 * against it). content_type: the response's Content-Type header or NULL; the charset comes from
 * a BOM (which wins, as in the HTML standard and browsers), else it, else <meta charset> /
 * <meta http-equiv> in the first 1024 bytes, else UTF-8 with a Windows-1252 fallback when the
 * bytes are not valid UTF-8; UTF-8, ISO-8859-1 (read as Windows-1252, as browsers do; reported
 * as "iso-8859-1"), Windows-1252 and Shift_JIS at least (and EUC-JP, GBK, Big5, EUC-KR, KOI8,
 * ISO-8859-x, Windows-125x, UTF-16 by iconv), invalid sequences replaced by U+FFFD. NULL (err says
 * why) only when the page cannot be had at all (out of memory, a body over the bound): broken
 * markup still parses. */
form_page_t *form_page_parse(const char *body, size_t len, const char *content_type,
                             const char *url, char *err, size_t errlen);
void form_page_free(form_page_t **p);

const char *form_page_url(const form_page_t *p);     /* the url given to form_page_parse */
const char *form_page_charset(const form_page_t *p); /* what it was decoded from: "utf-8", ... */
const char *form_page_lang(const form_page_t *p);    /* <html lang>, or "" */
const char *form_page_title(const form_page_t *p);   /* <title>, whitespace collapsed, or "" */
/* The visible text of the body (no script, style, template, hidden elements), whitespace
 * collapsed, at most 64 KiB (cut on a character boundary). */
const char *form_page_text(const form_page_t *p);
size_t form_page_nforms(const form_page_t *p);
/* Bytes the page holds while it lives (its text, forms, fields, links: the parse tree is gone
 * by the time form_page_parse returns), for the worker's memory budget. */
size_t form_page_memory(const form_page_t *p);

/* Links that lead to a contact page, best first, at most max: absolute http(s) URLs on the
 * page's own site (the same host, or the host with/without "www."), no fragment, each once, not
 * the page itself. Scored by the link's text, URL path, rel, aria-label and title in common
 * languages (contact, contact us, kontakt, contacto, contato, contatti, nous contacter,
 * neem contact op, お問い合わせ, 联系我们, ...), and by being in <nav>, <header> or <footer>.
 * Returns the count; urls[i] point into the page. */
size_t form_page_contact_links(form_page_t *p, const char **urls, size_t max);

/* What the page offers a sender. */
typedef enum {
    FORM_VERDICT_CONTACT = 0, /* a contact form: .form is its index */
    FORM_VERDICT_JS_REQUIRED, /* no contact form in the markup, but a JavaScript form embed */
    FORM_VERDICT_NO_FORM      /* neither */
} form_verdict_t;

typedef struct {
    form_verdict_t verdict;
    int form;          /* FORM_VERDICT_CONTACT: the chosen form's index; -1 otherwise */
    const char *why;   /* one sentence: why this form, or why none (e.g. "form 2: a message
                          textarea and an e-mail field; form 1 is a search form") */
    const char *embed; /* JS_REQUIRED: "hubspot", "typeform", "wix", "ninja_forms", "jotform",
                          "google_forms", "formstack", "pipedrive", "cognito", "marketo", ... */
    /* A CAPTCHA on or for the chosen form (or the page when none is chosen): NULL, or
     * "recaptcha_v2", "recaptcha_v3", "hcaptcha", "turnstile", "friendly_captcha", "math",
     * "image"; captcha_evidence says what showed it (e.g. "div.g-recaptcha[data-sitekey]"). */
    const char *captcha, *captcha_evidence;
    /* A notice on the page (near the form or anywhere else on it: a page that asks, asks)
     * asking not to be sent sales messages ("no solicitations", "keine Werbung", "営業お断り",
     * ...): the phrase as found, to the end of its sentence (at most 120 bytes), or NULL. */
    const char *opt_out;
    /* E-mail addresses (mailto: links and text) and phone numbers (tel: links and text) on the
     * page, each once, at most 16 of each. */
    const char *const *emails;
    size_t nemails;
    const char *const *phones;
    size_t nphones;
} form_analysis_t;

/* Judges the page: the contact form among its forms (a message textarea plus an e-mail or name
 * field; not a search, login, sign-up, newsletter or comment form), else a JavaScript embed, else
 * none; and the CAPTCHA, opt-out notice and contacts. out's pointers point into the page. */
void form_page_analyze(form_page_t *p, form_analysis_t *out);

/* ---- filling ---- */

/* What a field is for. */
typedef enum {
    FORM_KIND_OTHER = 0, /* text we have no value for (left as the page has it) */
    FORM_KIND_FIRST_NAME,
    FORM_KIND_LAST_NAME,
    FORM_KIND_FULL_NAME,
    FORM_KIND_EMAIL,
    FORM_KIND_PHONE,
    FORM_KIND_COMPANY,
    FORM_KIND_WEBSITE,
    FORM_KIND_JOB_TITLE,
    FORM_KIND_SUBJECT,
    FORM_KIND_MESSAGE,
    FORM_KIND_CONSENT,  /* a consent / privacy / terms checkbox (checked when required) */
    FORM_KIND_CHECKBOX, /* another checkbox or radio (left as the page has it) */
    FORM_KIND_SELECT,   /* a select or radio group: the option closest to a sales or general
                           enquiry */
    FORM_KIND_FILE,     /* left empty */
    FORM_KIND_HIDDEN,   /* type=hidden: kept as it is (CSRF tokens, builder fields) */
    FORM_KIND_HONEYPOT, /* hidden by CSS, tabindex=-1 off-screen, or named like a trap: empty */
    FORM_KIND_SUBMIT,   /* the submit button (its name=value sent when it has a name) */
    FORM_KIND_CAPTCHA,  /* a CAPTCHA's own field (g-recaptcha-response, a maths answer...) */
} form_kind_t;
const char *form_kind_name(form_kind_t k); /* "first_name", ..., "honeypot", "captcha" */

/* A field as the classifier sees it (attributes as in the markup; NULL when absent). */
typedef struct {
    const char *tag;  /* "input", "textarea", "select", "button" */
    const char *type; /* the input's type attribute, lowercased (NULL: text) */
    const char *name, *id, *autocomplete, *label, *aria_label, *placeholder, *klass;
    bool hidden_by_css; /* display:none / visibility:hidden / off-screen, on it or an ancestor */
    long tabindex;      /* 0 when absent */
    /* The text between the previous field and this one (a table cell's "お名前", a paragraph's
     * "What is 3 + 4?"), read last, when nothing else names the field; NULL when absent. */
    const char *near;
} form_field_desc_t;
/* The kind of one field (pure; unit-tested in several languages). */
form_kind_t form_classify_field(const form_field_desc_t *f);

/* Who sends (every member may be NULL or ""; name is the full name, first/last are derived from
 * it when absent). */
typedef struct {
    const char *name, *first_name, *last_name, *email, *phone, *company, *website, *title;
} form_sender_t;

/* One name=value the form would send, in document order. */
typedef struct {
    const char *name, *value;
    form_kind_t kind;
    const char *label; /* the field's label (or aria-label, placeholder, name) for people */
    bool file;         /* a file input: sent as an empty file part in multipart */
} form_pair_t;

typedef struct {
    const char *method;  /* "GET" or "POST" */
    const char *action;  /* absolute URL (the page's URL when the form has no action) */
    const char *enctype; /* "application/x-www-form-urlencoded" or "multipart/form-data" */
    const form_pair_t *pairs;
    size_t npairs;
    /* NULL, or the required field that cannot be filled (its label or name): the form must
     * not be sent; the worker ends the task failed: unfillable_field. */
    const char *unfillable;
} form_fill_t;

/* Fills form `form` of p from the sender, subject and message as a careful person would: each
 * field classified; hidden inputs kept, honeypots and files empty, consent boxes checked when
 * required, selects set to the closest option; a submit button with a name sends its value.
 * out's pointers point into the page (a page may be filled more than once). 0, or -1 when form
 * is not a form of p. */
int form_page_fill(form_page_t *p, int form, const form_sender_t *s, const char *subject,
                   const char *message, form_fill_t *out);

/* text (UTF-8) as the form posts it: in the page's charset, as a browser sends a form (a
 * Shift_JIS page's form in Shift_JIS), characters the charset cannot hold as "&#N;" references;
 * the text itself on a UTF-8 page. The bytes point into the page (or are text); *len their
 * length (they hold no NUL unless text did). */
const char *form_page_encode(form_page_t *p, const char *text, size_t *len);

/* ---- the answer to a post ---- */

typedef enum {
    FORM_JUDGE_SUCCESS = 0, /* thank-you text in the page's language, a /thanks-like URL, the
                               form replaced by a message */
    FORM_JUDGE_FAILED,      /* the form came back with validation errors */
    FORM_JUDGE_UNCERTAIN    /* cannot tell */
} form_judge_t;

typedef struct {
    form_judge_t verdict;
    const char *why;           /* one sentence */
    const char *excerpt;       /* a short excerpt of the answer's text (at most 300 bytes) */
    const char *const *errors; /* FAILED: the validation messages found (at most 16) */
    size_t nerrors;
} form_judgement_t;

/* Judges the answer to posting form `form` of `sent` (the page it was on): answer is the parsed
 * final response (NULL when it had no body), status its status, final_url its URL after
 * redirects. out's pointers point into answer (or sent when answer is NULL). */
void form_page_judge(form_page_t *sent, int form, form_page_t *answer, long status,
                     const char *final_url, form_judgement_t *out);

#endif
