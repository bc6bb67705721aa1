/* CPU benchmark of the form worker's page core: a contact page parsed (decode + gumbo + the
 * walk), analysed (form choice, CAPTCHA, opt-out, contacts), its contact links listed and its
 * contact form filled, over and over on one thread. Prints pages per second for each of RUNS
 * runs and their median; with --profile, where the time goes (decode+parse+walk vs analysis and
 * fill, and gumbo's parse alone).
 *
 *   form-parse-bench [--runs 5] [--seconds 2] [--profile] PAGE.html */
#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "form_page.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const form_sender_t ADA = {.name = "Ada Lovelace",
                                  .email = "ada@analytical-engines.example",
                                  .phone = "+44 20 7946 0000",
                                  .company = "Analytical Engines Ltd",
                                  .website = "https://analytical-engines.example",
                                  .title = "Head of Partnerships"};

/* One page through everything the worker does with it; the pairs filled (so nothing is skipped). */
static size_t one(const char *body, size_t len, int stages)
{
    char err[128];
    form_page_t *p = form_page_parse(body, len, "text/html; charset=UTF-8",
                                     "https://www.acme.example/contact/", err, sizeof err);
    if (!p) {
        fprintf(stderr, "form-parse-bench: %s\n", err);
        exit(1);
    }
    size_t n = 0;
    if (stages > 1) {
        const char *urls[8];
        n += form_page_contact_links(p, urls, 8);
        form_analysis_t a;
        form_page_analyze(p, &a);
        if (a.verdict == FORM_VERDICT_CONTACT) {
            form_fill_t f;
            form_page_fill(p, a.form, &ADA, "Enquiry from Analytical Engines Ltd",
                           "Hello, we would like to talk about a partnership.", &f);
            n += f.npairs;
        }
    }
    form_page_free(&p);
    return n;
}

static double rate(const char *body, size_t len, double seconds, int stages)
{
    size_t pages = 0, sink = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 20; i++, pages++) {
            if (stages == 0) {
                GumboOutput *o = gumbo_parse_with_options(&kGumboDefaultOptions, body, len);
                gumbo_destroy_output(&kGumboDefaultOptions, o);
            } else {
                sink += one(body, len, stages);
            }
        }
        t = now();
    } while (t - t0 < seconds);
    if (sink == 1) puts("");
    return (double)pages / (t - t0);
}

int main(int argc, char **argv)
{
    int runs = 5;
    double seconds = 2;
    int profile = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--profile") == 0) profile = 1;
        else path = argv[i];
    }
    if (!path || runs < 1 || runs > 99) {
        fprintf(stderr, "usage: form-parse-bench [--runs N] [--seconds S] [--profile] PAGE\n");
        return 2;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static char body[4 << 20];
    size_t len = fread(body, 1, sizeof body, f);
    fclose(f);
    form_analysis_t a;
    char err[128];
    form_page_t *p =
        form_page_parse(body, len, NULL, "https://www.acme.example/contact/", err, sizeof err);
    form_page_analyze(p, &a);
    printf("page: %s, %zu bytes (%zu of visible text), %zu forms, verdict %d (%s); the parsed "
           "page holds %zu bytes\n",
           path, len, strlen(form_page_text(p)), form_page_nforms(p), a.verdict, a.why,
           form_page_memory(p));
    form_page_free(&p);
    double r[99];
    for (int i = 0; i < runs; i++) {
        r[i] = rate(body, len, seconds, 2);
        printf("run %d: %.0f pages/s (parsed, analysed, links listed, filled)\n", i + 1, r[i]);
    }
    qsort(r, (size_t)runs, sizeof *r, cmp);
    printf("median: %.0f pages/s on one core (%.1f MB/s)\n", r[runs / 2],
           r[runs / 2] * (double)len / 1e6);
    if (profile) {
        /* the three measured in turns, so that the machine's load weighs on each alike */
        double full[5], parse[5], gumbo[5];
        for (int i = 0; i < 5; i++) {
            full[i] = 1e6 / rate(body, len, seconds / 4, 2);
            parse[i] = 1e6 / rate(body, len, seconds / 4, 1);
            gumbo[i] = 1e6 / rate(body, len, seconds / 4, 0);
        }
        qsort(full, 5, sizeof *full, cmp);
        qsort(parse, 5, sizeof *parse, cmp);
        qsort(gumbo, 5, sizeof *gumbo, cmp);
        printf("profile (us/page, medians of 5 alternating runs): all %.0f = parse (decode, gumbo "
               "with a bump allocator, the walk) %.0f + analysis, links and fill %.0f; gumbo "
               "alone with malloc and its own tree freed: %.0f\n",
               full[2], parse[2], full[2] - parse[2], gumbo[2]);
    }
    return 0;
}
