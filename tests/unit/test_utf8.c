/* pa_utf8: well-formedness (overlongs, surrogates, range, truncation, NUL), case folding for
 * search, and code point counting. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "pa_utf8.h"

#define VALID(lit) pa_utf8_valid((lit), sizeof(lit) - 1)

static char *fold(const char *s, size_t n)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_utf8_fold(s, n, &b);
    return pa_buf_detach(&b, NULL);
}

static void assert_fold(const char *in, const char *want)
{
    char *got = fold(in, strlen(in));
    cr_assert_str_eq(got, want, "fold(\"%s\") = \"%s\", want \"%s\"", in, got, want);
    free(got);
}

Test(utf8_valid, well_formed_text)
{
    cr_assert(pa_utf8_valid("", 0));
    cr_assert(VALID("plain ascii ~!@#$%^&*()"));
    cr_assert(VALID("ÉMILE Müller ΣΟΦΙΑ"));
    cr_assert(VALID("東京 € 😀"));
    cr_assert(VALID("\x7f"), "DEL is a valid character");
}

Test(utf8_valid, boundaries_of_each_length)
{
    cr_assert(VALID("\xc2\x80"), "U+0080, the first 2-byte code point");
    cr_assert(VALID("\xdf\xbf"), "U+07FF");
    cr_assert(VALID("\xe0\xa0\x80"), "U+0800, the first 3-byte code point");
    cr_assert(VALID("\xed\x9f\xbf"), "U+D7FF, just below the surrogates");
    cr_assert(VALID("\xee\x80\x80"), "U+E000, just above the surrogates");
    cr_assert(VALID("\xef\xbf\xbf"), "U+FFFF");
    cr_assert(VALID("\xf0\x90\x80\x80"), "U+10000, the first 4-byte code point");
    cr_assert(VALID("\xf4\x8f\xbf\xbf"), "U+10FFFF, the last code point");
}

Test(utf8_valid, overlong_encodings_are_rejected)
{
    cr_assert_not(VALID("\xc0\xaf"), "overlong '/' in 2 bytes");
    cr_assert_not(VALID("\xc1\xbf"), "overlong U+007F in 2 bytes");
    cr_assert_not(VALID("\xc0\x80"), "overlong NUL (modified UTF-8)");
    cr_assert_not(VALID("\xe0\x80\xaf"), "overlong '/' in 3 bytes");
    cr_assert_not(VALID("\xe0\x9f\xbf"), "overlong U+07FF in 3 bytes");
    cr_assert_not(VALID("\xf0\x80\x80\xaf"), "overlong '/' in 4 bytes");
    cr_assert_not(VALID("\xf0\x8f\xbf\xbf"), "overlong U+FFFF in 4 bytes");
}

Test(utf8_valid, surrogates_are_rejected)
{
    cr_assert_not(VALID("\xed\xa0\x80"), "U+D800");
    cr_assert_not(VALID("\xed\xaf\xbf"), "U+DBFF");
    cr_assert_not(VALID("\xed\xb0\x80"), "U+DC00");
    cr_assert_not(VALID("\xed\xbf\xbf"), "U+DFFF");
    cr_assert_not(VALID("\xed\xa0\xbd\xed\xb8\x80"), "CESU-8 surrogate pair for U+1F600");
}

Test(utf8_valid, beyond_unicode_and_bad_lead_bytes)
{
    cr_assert_not(VALID("\xf4\x90\x80\x80"), "U+110000");
    cr_assert_not(VALID("\xf5\x80\x80\x80"), "lead 0xF5");
    cr_assert_not(VALID("\xf8\x88\x80\x80\x80"), "5-byte form");
    cr_assert_not(VALID("\xfc\x84\x80\x80\x80\x80"), "6-byte form");
    cr_assert_not(VALID("\xfe"));
    cr_assert_not(VALID("\xff"));
}

Test(utf8_valid, stray_and_missing_continuations)
{
    cr_assert_not(VALID("\x80"), "lone continuation byte");
    cr_assert_not(VALID("a\xbf"
                        "b"),
                  "continuation after ASCII");
    cr_assert_not(VALID("\xe2\x82"), "truncated euro sign at the end");
    cr_assert_not(VALID("\xe2\x82"
                        "a"),
                  "truncated euro sign followed by ASCII");
    cr_assert_not(VALID("\xf0\x9f\x98"), "truncated emoji");
    cr_assert_not(VALID("\xc3"), "lead byte alone");
    cr_assert_not(VALID("\xe2\x28\xa1"), "bad second byte");
    cr_assert_not(VALID("\xc3\xa9\xa9"), "extra continuation after a complete sequence");
}

Test(utf8_valid, nul_bytes_are_rejected)
{
    cr_assert_not(pa_utf8_valid("a\0b", 3), "NUL in the middle");
    cr_assert_not(pa_utf8_valid("\0", 1), "NUL alone");
    cr_assert_not(pa_utf8_valid("abc\0", 4), "NUL at the end");
}

Test(utf8_valid, respects_length)
{
    /* Only the first n bytes count: a prefix ending before a bad byte is valid, one cutting a
     * sequence in half is not. */
    const char s[] = "ab\xff";
    cr_assert(pa_utf8_valid(s, 2));
    cr_assert_not(pa_utf8_valid(s, 3));
    const char e[] = "\xe2\x82\xac";
    cr_assert(pa_utf8_valid(e, 3));
    cr_assert_not(pa_utf8_valid(e, 2));
}

Test(utf8_fold, the_search_example)
{
    assert_fold("ÉMILE Müller ΣΟΦΙΑ", "émile müller σοφια");
}

Test(utf8_fold, ascii_and_mixed)
{
    assert_fold("Blue Learning SA", "blue learning sa");
    assert_fold("ZOE.BIANCHI@BLUE-LEARNING.EXAMPLE", "zoe.bianchi@blue-learning.example");
    assert_fold("already lower 123 !?", "already lower 123 !?");
}

Test(utf8_fold, empty_input_gives_empty_terminated_string)
{
    mallopt(M_PERTURB, 0x5a); /* make fresh heap memory non-zero (ASan does so anyway) */
    pa_buf_t b = PA_BUF_INIT;
    pa_utf8_fold("", 0, &b);
    cr_assert_eq(b.len, 0);
    cr_assert(b.data == NULL || b.data[0] == '\0',
              "folding \"\" left an unterminated buffer (first byte 0x%02x)",
              (unsigned char)b.data[0]);
    pa_buf_free(&b);
}

Test(utf8_fold, other_scripts)
{
    assert_fold("MÜLLER", "müller");
    assert_fold("ÅSA ØSTERGÅRD ÆBLE", "åsa østergård æble");
    assert_fold("ПРИВЕТ МИР", "привет мир");
    assert_fold("ŁÓDŹ ŻÓŁW", "łódź żółw");
    assert_fold("ÇAĞRI", "çağri");
    assert_fold("東京 😀", "東京 😀");
}

Test(utf8_fold, folded_text_matches_case_insensitively)
{
    /* what search does: fold both sides, then substring */
    char *hay = fold("Hans MÜLLER GmbH", strlen("Hans MÜLLER GmbH"));
    char *needle = fold("müller", strlen("müller"));
    cr_assert_not_null(strstr(hay, needle), "\"%s\" not found in \"%s\"", needle, hay);
    free(hay);
    free(needle);
}

Test(utf8_fold, appends_to_existing_buffer)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "x:");
    pa_utf8_fold("ÄB", strlen("ÄB"), &b);
    cr_assert_str_eq(b.data, "x:äb");
    pa_buf_free(&b);
}

Test(utf8_fold, invalid_bytes_are_copied_as_they_are)
{
    const char in[] = "A\xff"
                      "B\xc3"
                      "C\xed\xa0\x80"
                      "D";
    char *got = fold(in, sizeof in - 1);
    const char want[] = "a\xff"
                        "b\xc3"
                        "c\xed\xa0\x80"
                        "d";
    cr_assert_eq(strlen(got), sizeof want - 1);
    cr_assert_eq(memcmp(got, want, sizeof want - 1), 0, "invalid bytes were altered");
    free(got);
}

Test(utf8_fold, respects_length)
{
    char *got = fold("ABCDEF", 3);
    cr_assert_str_eq(got, "abc");
    free(got);
}

Test(utf8_len, counts_code_points)
{
    cr_assert_eq(pa_utf8_len("", 0), 0);
    cr_assert_eq(pa_utf8_len("abc", 3), 3);
    cr_assert_eq(pa_utf8_len("ÉMILE", strlen("ÉMILE")), 5);
    cr_assert_eq(pa_utf8_len("ΣΟΦΙΑ", strlen("ΣΟΦΙΑ")), 5);
    cr_assert_eq(pa_utf8_len("東京😀", strlen("東京😀")), 3);
    cr_assert_eq(pa_utf8_len("\xff\xfe", 2), 2, "invalid bytes count one each");
    cr_assert_eq(pa_utf8_len("a\xe2\x82"
                             "b",
                             4),
                 4, "a truncated sequence counts per byte");
}

Test(utf8_len, two_hundred_characters_of_two_bytes)
{
    /* the API's "1 to 200 characters" rule counts code points, not bytes */
    char s[401];
    for (int i = 0; i < 200; i++) memcpy(s + 2 * i, "é", 2);
    s[400] = '\0';
    cr_assert_eq(pa_utf8_len(s, 400), 200);
    cr_assert(pa_utf8_valid(s, 400));
}

Test(utf8_decode, gives_each_sequences_length_and_code_point_or_0)
{
    uint32_t cp = 0;
    cr_assert_eq(pa_utf8_decode("A", 1, &cp), 1);
    cr_assert_eq(cp, 0x41);
    cr_assert_eq(pa_utf8_decode("é", 2, &cp), 2);
    cr_assert_eq(cp, 0xe9);
    cr_assert_eq(pa_utf8_decode("東", 3, &cp), 3);
    cr_assert_eq(cp, 0x6771);
    cr_assert_eq(pa_utf8_decode("😀", 4, &cp), 4);
    cr_assert_eq(cp, 0x1f600);
    cr_assert_eq(pa_utf8_decode("", 0, &cp), 0, "nothing left");
    cr_assert_eq(pa_utf8_decode("\xe6\x9d", 2, &cp), 0, "cut short");
    cr_assert_eq(pa_utf8_decode("\xc0\xaf", 2, &cp), 0, "overlong");
    cr_assert_eq(pa_utf8_decode("\xed\xa0\x80", 3, &cp), 0, "a surrogate");
    cr_assert_eq(pa_utf8_decode("\xf4\x90\x80\x80", 4, &cp), 0, "past U+10FFFF");
    cr_assert_eq(pa_utf8_decode("\x80", 1, &cp), 0, "a continuation byte first");
}
