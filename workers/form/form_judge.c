/* The answer to a post: thanks (in words or in the URL, or the form gone for a message),
 * validation errors (new ones, the form shown again), or cannot tell. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_page_int.h"

static const char *const url_thanks[] = {
    "thank",   "merci",  "danke",        "gracias",     "grazie",    "bedankt", "obrigad",
    "success", "/sent",  "confirmation", "confirm",     "submitted", "/done",   "complete",
    "kanryo",  "sent=1", "sent=true",    "status=sent", "?ok",       "&ok",
};

/* Words of a form shown again with a problem (new on the answer). */
static const char *const complaints[] = {
    "is required",       "required field",      "this field is required",
    "pflichtfeld",       "bitte füllen",        "bitte geben sie",
    "ungültig",          "champ obligatoire",   "est obligatoire",
    "veuillez saisir",   "veuillez remplir",    "es obligatorio",
    "campo obligatorio", "è obbligatorio",      "campo obbligatorio",
    "is verplicht",      "é obrigatório",       "campo obrigatório",
    "必須項目",          "入力してください",    "invalid email",
    "invalid e-mail",    "please enter",        "please fill",
    "please correct",    "there was a problem", "an error occurred",
    "could not be sent", "failed to send",      "not valid",
    "is invalid",
};

static size_t count(const char *hay, size_t n, const char *phrase)
{
    size_t c = 0, k = strlen(phrase);
    for (const char *s = hay; c < 64 && (s = memmem(s, n - (size_t)(s - hay), phrase, k)); s += k)
        c++;
    return c;
}

/* The first phrase of list found in the answer (folded: ans, an) more often than on the sent
 * page (sf, sn). */
static int new_phrase(const char *ans, size_t an, const char *sf, size_t sn,
                      const char *const *list, size_t n, size_t *at)
{
    size_t off = 0;
    while (off < an) {
        size_t a;
        int k = fp_find_phrase(ans + off, an - off, list, n, &a);
        if (k < 0) return -1;
        if (count(ans, an, list[k]) > count(sf, sn, list[k])) {
            *at = off + a;
            return k;
        }
        off += a + 1;
    }
    return -1;
}

static const char *excerpt(form_page_t *p, size_t at)
{
    size_t from = at > 80 ? at - 80 : 0;
    while (from < at && ((unsigned char)p->text[from] & 0xC0) == 0x80) from++;
    return fp_strcut(p->arena, p->text + from, p->text_len - from, 300);
}

/* Does the answer show the sent form again (half of its named visible fields)? */
static bool form_again(form_page_t *sent, int form, const form_page_t *ans)
{
    size_t named = 0;
    for (size_t i = 0; i < sent->nfields; i++) {
        const fp_field_t *f = &sent->fields[i];
        if (f->form != form || !f->d.name || (f->d.type && strcmp(f->d.type, "hidden") == 0))
            continue;
        named++;
    }
    for (size_t fo = 0; fo < ans->nforms; fo++) {
        size_t same = 0;
        for (size_t i = 0; i < sent->nfields; i++) {
            const fp_field_t *f = &sent->fields[i];
            if (f->form != form || !f->d.name || (f->d.type && strcmp(f->d.type, "hidden") == 0))
                continue;
            for (size_t j = 0; j < ans->nfields; j++)
                if (ans->fields[j].form == (int)fo && ans->fields[j].d.name &&
                    strcmp(ans->fields[j].d.name, f->d.name) == 0) {
                    same++;
                    break;
                }
        }
        if (named && same * 2 >= named) return true;
    }
    return false;
}

static const char *fmt(pa_arena_t *a, const char *f, const char *x)
{
    char b[400];
    snprintf(b, sizeof b, f, x);
    return fp_utf8_fix(pa_arena_strdup(a, b));
}

void form_page_judge(form_page_t *sent, int form, form_page_t *answer, long status,
                     const char *final_url, form_judgement_t *out)
{
    form_page_t *p = answer ? answer : sent;
    memset(out, 0, sizeof *out);
    out->verdict = FORM_JUDGE_UNCERTAIN;
    if (!p || !sent) {
        out->why = "no page to judge";
        out->excerpt = "";
        return;
    }
    pa_arena_t *a = p->arena;
    out->excerpt = answer ? fp_strcut(a, answer->text, answer->text_len, 300) : "";
    /* validation messages new on the answer */
    if (answer) {
        const char **errs = pa_arena_alloc(a, FP_MAX_ERRORS * sizeof *errs);
        size_t n = 0;
        const char *const *lists[] = {answer->errors, answer->soft_errors};
        size_t lens[] = {answer->nerrors, answer->has_invalid ? answer->nsoft_errors : 0};
        for (size_t l = 0; l < 2; l++)
            for (size_t i = 0; i < lens[l] && n < FP_MAX_ERRORS; i++) {
                bool old = false;
                for (size_t j = 0; sent && j < sent->nerrors; j++)
                    old = old || strcmp(sent->errors[j], lists[l][i]) == 0;
                if (!old) errs[n++] = lists[l][i];
            }
        if (!n && answer->has_invalid)
            for (size_t i = 0; i < answer->nfields && n < FP_MAX_ERRORS; i++)
                if (answer->fields[i].aria_invalid)
                    errs[n++] = fmt(a, "%s is invalid",
                                    answer->fields[i].d.label  ? answer->fields[i].d.label
                                    : answer->fields[i].d.name ? answer->fields[i].d.name
                                                               : "a field");
        bool again = form_again(sent, form, answer);
        char *af = fp_folded(answer), *sf = fp_folded(sent);
        size_t at;
        int k = -1;
        if (!n && again &&
            (k = new_phrase(af, answer->text_len, sf, sent->text_len, complaints,
                            sizeof complaints / sizeof *complaints, &at)) >= 0)
            errs[n++] = excerpt(answer, at);
        int thanks = n || status >= 400 ? -1
                                        : new_phrase(af, answer->text_len, sf, sent->text_len,
                                                     fp_success, fp_nsuccess, &at);
        free(af);
        free(sf);
        if (n) {
            out->verdict = FORM_JUDGE_FAILED;
            out->errors = errs, out->nerrors = n;
            char b[300];
            snprintf(b, sizeof b, "the form came back with %zu validation error%s: %.200s", n,
                     n == 1 ? "" : "s", errs[0]);
            out->why = fp_utf8_fix(pa_arena_strdup(a, b));
            out->excerpt = fp_strcut(a, errs[0], strlen(errs[0]), 300);
            return;
        }
        if (status >= 400) {
            char b[64];
            snprintf(b, sizeof b, "the answer was HTTP %ld", status);
            out->why = pa_arena_strdup(a, b);
            return;
        }
        if (thanks >= 0) {
            out->verdict = FORM_JUDGE_SUCCESS;
            out->why = fmt(a, "the answer thanks us (\"%s\")", fp_success[thanks]);
            out->excerpt = excerpt(answer, at);
            return;
        }
    } else if (status >= 400) {
        char b[64];
        snprintf(b, sizeof b, "the answer was HTTP %ld", status);
        out->why = pa_arena_strdup(a, b);
        return;
    }
    /* a thank-you address (new: not in the page's own) */
    if (final_url && status < 400) {
        char u[1024], s[1024];
        size_t un = strnlen(final_url, sizeof u - 1), sn = strnlen(sent->url, sizeof s - 1);
        fp_fold(u, final_url, un, false);
        fp_fold(s, sent->url, sn, false);
        const char *path = strstr(u, "://");
        path = path ? strchr(path + 3, '/') : u;
        for (size_t i = 0; path && i < sizeof url_thanks / sizeof *url_thanks; i++)
            if (strstr(path, url_thanks[i]) && !strstr(s, url_thanks[i])) {
                out->verdict = FORM_JUDGE_SUCCESS;
                out->why = fmt(a, "the answer's address says so (%.300s)", final_url);
                return;
            }
    }
    /* the form gone, a message in its place */
    if (answer && status >= 200 && status < 300 && answer->text_len &&
        !form_again(sent, form, answer)) {
        static const char *const trouble[] = {"error",     "fehler",  "erreur",
                                              "failed",    "invalid", "could not",
                                              "try again", "エラー",  "失敗"};
        size_t at;
        char *af = fp_folded(answer);
        int k =
            fp_find_phrase(af, answer->text_len, trouble, sizeof trouble / sizeof *trouble, &at);
        free(af);
        if (k < 0 && answer->text_len < 2000) {
            out->verdict = FORM_JUDGE_SUCCESS;
            out->why = "the form was replaced by a message";
            return;
        }
    }
    out->why = answer ? "neither thanks nor validation errors in the answer"
                      : "the answer had no body to judge";
}
