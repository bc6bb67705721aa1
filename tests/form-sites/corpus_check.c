/* The page core (workers/form/form_page.h, library pa_form) over the fixture corpus, without the
 * worker: corpus_check.mjs fetches each site's pages and runs this program on them; it answers
 * one JSON line per input line. Not built by CMake yet: link it with pa_form, e.g.
 *   add_executable(form-corpus-check tests/form-sites/corpus_check.c)
 *   target_link_libraries(form-corpus-check PRIVATE pa_form)
 * Input lines, tab-separated:
 *   <site> home <url> <content-type or -> <file>          -> {site, kind, charset, links}
 *   <site> contact <url> <content-type or -> <file>       -> {site, kind, charset, verdict, why,
 *        embed, captcha, opt_out, emails, phones, method, action, enctype, unfillable, pairs}
 *   <site> answer <final url> <ct> <file> <sent url> <sent ct> <sent file> <status>
 *                                                          -> {site, kind, judge, why, excerpt} */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_page.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(len > 0 ? (size_t)len + 1 : 1);
    *n = b && len > 0 ? fread(b, 1, (size_t)len, f) : 0;
    if (b) b[*n] = '\0';
    fclose(f);
    return b;
}

static form_page_t *parse(const char *file, const char *ct, const char *url)
{
    size_t n = 0;
    char err[256], *body = slurp(file, &n);
    if (!body) return NULL;
    form_page_t *p = form_page_parse(body, n, strcmp(ct, "-") ? ct : NULL, url, err, sizeof err);
    free(body);
    return p;
}

static json_t *strings(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static void contact(form_page_t *p, json_t *o)
{
    static const form_sender_t s = {.name = "Ada Lovelace",
                                    .email = "ada@analytical-engines.example",
                                    .phone = "+44 20 7946 0000",
                                    .company = "Analytical Engines Ltd",
                                    .website = "https://analytical-engines.example",
                                    .title = "Head of Partnerships"};
    form_analysis_t an;
    form_page_analyze(p, &an);
    json_object_set_new(o, "verdict", json_integer(an.verdict));
    json_object_set_new(o, "why", json_string(an.why ? an.why : ""));
    if (an.embed) json_object_set_new(o, "embed", json_string(an.embed));
    if (an.captcha) json_object_set_new(o, "captcha", json_string(an.captcha));
    if (an.opt_out) json_object_set_new(o, "opt_out", json_string(an.opt_out));
    json_object_set_new(o, "emails", strings(an.emails, an.nemails));
    json_object_set_new(o, "phones", strings(an.phones, an.nphones));
    form_fill_t fl;
    if (an.verdict != FORM_VERDICT_CONTACT ||
        form_page_fill(p, an.form, &s, "Enquiry from Analytical Engines Ltd",
                       "Hello from the corpus check.", &fl) != 0)
        return;
    json_object_set_new(o, "method", json_string(fl.method));
    json_object_set_new(o, "action", json_string(fl.action));
    json_object_set_new(o, "enctype", json_string(fl.enctype));
    if (fl.unfillable) json_object_set_new(o, "unfillable", json_string(fl.unfillable));
    json_t *pairs = json_array();
    for (size_t i = 0; i < fl.npairs; i++)
        json_array_append_new(pairs, json_pack("{s:s,s:s,s:s,s:b}", "name", fl.pairs[i].name,
                                               "value", fl.pairs[i].value ? fl.pairs[i].value : "",
                                               "kind", form_kind_name(fl.pairs[i].kind), "file",
                                               fl.pairs[i].file));
    json_object_set_new(o, "pairs", pairs);
}

int main(void)
{
    char line[16384];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *f[9], *save = NULL;
        int k = 0;
        for (char *t = strtok_r(line, "\t", &save); t && k < 9; t = strtok_r(NULL, "\t", &save))
            f[k++] = t;
        if (k < 5) continue;
        json_t *o = json_pack("{s:s,s:s}", "site", f[0], "kind", f[1]);
        if (strcmp(f[1], "answer") == 0 && k == 9) {
            form_page_t *sent = parse(f[7], f[6], f[5]), *ans = parse(f[4], f[3], f[2]);
            if (sent) {
                form_analysis_t an;
                form_page_analyze(sent, &an);
                form_judgement_t j;
                form_page_judge(sent, an.form, ans, atol(f[8]), f[2], &j);
                json_object_set_new(o, "judge", json_integer(j.verdict));
                json_object_set_new(o, "why", json_string(j.why ? j.why : ""));
                json_object_set_new(o, "excerpt", json_string(j.excerpt ? j.excerpt : ""));
                json_object_set_new(o, "errors", strings(j.errors, j.nerrors));
            } else json_object_set_new(o, "error", json_string("cannot parse the sent page"));
            if (sent) form_page_free(&sent);
            if (ans) form_page_free(&ans);
        } else {
            form_page_t *p = parse(f[4], f[3], f[2]);
            if (!p) json_object_set_new(o, "error", json_string("cannot read or parse"));
            else {
                json_object_set_new(o, "charset", json_string(form_page_charset(p)));
                if (strcmp(f[1], "home") == 0) {
                    const char *urls[8];
                    size_t n = form_page_contact_links(p, urls, 8);
                    json_object_set_new(o, "links", strings(urls, n));
                } else contact(p, o);
                form_page_free(&p);
            }
        }
        char *d = json_dumps(o, JSON_COMPACT);
        if (d) puts(d);
        free(d);
        json_decref(o);
    }
    return 0;
}
