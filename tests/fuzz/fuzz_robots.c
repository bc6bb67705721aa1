/* libFuzzer target for the robots.txt parser (workers/form/form_robots.c).
 *
 * Input: one byte choosing the status robots.txt came with (200, 404, 503 or 0), one byte
 * choosing the user agent, a path up to the first '\n', then the body. Checks: a verdict always
 * has a rule and a group; the status rules hold (4xx allows, 5xx and 0 disallow, without a
 * line); a line is within the body's lines; the Crawl-delay is within 0..60 s; the same question
 * gets the same answer; nothing reads outside the input (ASan) and nothing leaks (LSan).
 *
 * Sources: this file, workers/form/form_robots.c (and pa_buf, pa_mem, libcurl). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_robots.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_robots: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 200, 200, 200, 404, 503, 0, 301};
    static const char *const agents[] = {"ProspectAI/1.0 (+https://prospect.example/bot)", "a", "*",
                                         "", "Googlebot"};
    if (size < 2) return 0;
    long status = statuses[data[0] & 7];
    const char *ua = agents[data[1] % 5];
    data += 2, size -= 2;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t pn = nl ? (size_t)(nl - data) : size;
    char *path = malloc(pn + 1);
    if (!path) return 0;
    memcpy(path, data, pn);
    path[pn] = '\0';
    size_t bn = nl ? size - pn - 1 : 0;
    char *body = malloc(bn ? bn : 1); /* exactly bn bytes: ASan sees any read past them */
    if (!body) {
        free(path);
        return 0;
    }
    if (bn) memcpy(body, nl + 1, bn);

    form_robots_t *r = form_robots_parse(status, bn ? body : NULL, bn, ua);
    if (!r) fail("NULL without running out of memory");
    form_robots_verdict_t v, w;
    form_robots_check(r, path, &v);
    if (!v.rule || !v.group) fail("a verdict without a rule or a group");
    if (status == 404 && (!v.allowed || v.line)) fail("4xx must allow everything");
    if ((status == 503 || status == 0) && (v.allowed || v.line)) fail("5xx must disallow");
    size_t lines = 1;
    for (size_t i = 0; i < bn; i++) lines += body[i] == '\n' || body[i] == '\r';
    if (v.line < 0 || (size_t)v.line > lines) fail("a line past the body");
    long delay = form_robots_crawl_delay_ms(r);
    if (delay < 0 || delay > 60000) fail("Crawl-delay out of 0..60 s");
    form_robots_check(r, path, &w);
    if (w.allowed != v.allowed || w.line != v.line || strcmp(w.rule, v.rule) != 0)
        fail("two answers to one question");
    form_robots_check(r, "/robots.txt", &w);
    if (status == 200 && !w.allowed) fail("/robots.txt must be allowed");
    form_robots_free(&r);
    if (r) fail("free left the pointer");
    free(body);
    free(path);
    return 0;
}
