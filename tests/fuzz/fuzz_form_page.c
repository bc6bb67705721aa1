/* libFuzzer target for the form worker's HTML core (workers/form/form_page.c and friends), which
 * reads whatever a target website serves.
 *
 * Input: one selector byte, then the page's bytes. The selector picks the Content-Type (none,
 * UTF-8, ISO-8859-1, Shift_JIS, an unknown label) and the page is parsed, analysed, its contact
 * links listed, every form filled, and the page judged as the answer to its own first form and
 * to itself as a page with no body. Checks: every string returned is NUL-terminated UTF-8 within
 * its bound, an index is in range, the text is at most 64 KiB, nothing leaks (ASan).
 *
 * Sources: this file, workers/form/form_*.c, common/pa_buf.c, pa_utf8.c, pa_arena.c, pa_mem.c,
 * pa_http.c; libs gumbo, libcurl. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_page.h"
#include "pa_utf8.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_form_page: check failed: %s: ", #cond);                          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void utf8(const char *s, size_t max, const char *what)
{
    CHECK(s, "%s is NULL", what);
    size_t n = strlen(s);
    CHECK(n <= max, "%s is %zu bytes", what, n);
    CHECK(pa_utf8_valid(s, n), "%s is not UTF-8", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char *const types[] = {NULL, "text/html; charset=utf-8",
                                        "text/html; charset=ISO-8859-1",
                                        "text/html;charset=\"shift_jis\"", "text/html; charset=x"};
    const char *ct = types[data[0] % 5];
    char err[128];
    form_page_t *p = form_page_parse((const char *)data + 1, size - 1, ct,
                                     "https://www.acme.example/a/b?c=d", err, sizeof err);
    CHECK(p, "parse failed: %s", err);
    utf8(form_page_text(p), 65536, "text");
    utf8(form_page_title(p), 4096, "title");
    utf8(form_page_lang(p), 4096, "lang");
    const char *urls[8];
    size_t n = form_page_contact_links(p, urls, 8);
    CHECK(n <= 8, "%zu links", n);
    for (size_t i = 0; i < n; i++) {
        CHECK(strncmp(urls[i], "http", 4) == 0 && !strchr(urls[i], '#'), "link %s", urls[i]);
        for (size_t j = 0; j < i; j++) CHECK(strcmp(urls[i], urls[j]) != 0, "twice: %s", urls[i]);
    }
    form_analysis_t a;
    form_page_analyze(p, &a);
    utf8(a.why, 4096, "why");
    CHECK(a.verdict != FORM_VERDICT_CONTACT ||
              (a.form >= 0 && (size_t)a.form < form_page_nforms(p)),
          "form %d of %zu", a.form, form_page_nforms(p));
    CHECK(a.nemails <= 16 && a.nphones <= 16, "%zu emails %zu phones", a.nemails, a.nphones);
    for (size_t i = 0; i < a.nemails; i++) utf8(a.emails[i], 254, "email");
    for (size_t i = 0; i < a.nphones; i++) utf8(a.phones[i], 254, "phone");
    if (a.opt_out) utf8(a.opt_out, 120, "opt_out");
    if (a.captcha) utf8(a.captcha_evidence, 4096, "captcha evidence");
    form_sender_t s = {.name = "Ada Lovelace",
                       .email = "ada@analytical-engines.example",
                       .phone = "+44 20 7946 0000"};
    for (size_t f = 0; f < form_page_nforms(p) && f < 8; f++) {
        form_fill_t fill;
        CHECK(form_page_fill(p, (int)f, &s, "Subject", "Message", &fill) == 0, "fill %zu", f);
        utf8(fill.action, 1 << 20, "action");
        for (size_t i = 0; i < fill.npairs; i++) {
            utf8(fill.pairs[i].name, 1 << 20, "name");
            utf8(fill.pairs[i].value, 1 << 20, "value");
            utf8(form_kind_name(fill.pairs[i].kind), 32, "kind");
            /* the value as it would be posted, in the page's charset: bounded, NUL-terminated */
            size_t n;
            const char *e = form_page_encode(p, fill.pairs[i].value, &n);
            CHECK(e && strlen(e) == n && n <= strlen(fill.pairs[i].value) * 10 + 16, "encode");
        }
    }
    form_fill_t none;
    CHECK(form_page_fill(p, -1, &s, "", "", &none) == -1, "fill -1");
    form_judgement_t j;
    form_page_judge(p, 0, p, 200, "https://www.acme.example/thanks", &j);
    utf8(j.why, 4096, "why");
    utf8(j.excerpt, 300, "excerpt");
    for (size_t i = 0; i < j.nerrors; i++) utf8(j.errors[i], 400, "error");
    form_page_judge(p, 0, NULL, 500, NULL, &j);
    utf8(j.why, 4096, "why");
    form_page_free(&p);
    CHECK(!p, "not freed");
    return 0;
}
