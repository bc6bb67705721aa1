/* pa_buf: growth, NUL termination, printf (short and long), detach, and JSON string escaping. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pa_buf.h"

/* Escapes s[0..n) and returns the literal (caller frees). */
static char *esc(const char *s, size_t n)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_json_str(&b, s, n);
    return pa_buf_detach(&b, NULL);
}

/* Parses a JSON string literal back with jansson (embedded NULs allowed). */
static json_t *parse_literal(const char *lit)
{
    json_error_t e;
    json_t *j = json_loads(lit, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    cr_assert_not_null(j, "not a valid JSON literal: %s (%s)", lit, e.text);
    cr_assert(json_is_string(j), "not a JSON string: %s", lit);
    return j;
}

Test(buf, starts_empty_and_appends)
{
    pa_buf_t b = PA_BUF_INIT;
    cr_assert_eq(b.len, 0);
    pa_buf_puts(&b, "hello");
    pa_buf_putc(&b, ',');
    pa_buf_put(&b, " world!!", 6);
    cr_assert_eq(b.len, 12);
    cr_assert_str_eq(b.data, "hello, world");
    cr_assert_eq(b.data[b.len], '\0');
    cr_assert_geq(b.cap, b.len + 1);
    pa_buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
}

Test(buf, put_zero_bytes_keeps_it_terminated)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_put(&b, "", 0);
    cr_assert_not_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.data, "");
    pa_buf_free(&b);
}

Test(buf, grows_across_many_appends_and_keeps_content)
{
    pa_buf_t b = PA_BUF_INIT;
    for (int i = 0; i < 100000; i++) pa_buf_putc(&b, (char)('a' + i % 26));
    cr_assert_eq(b.len, 100000);
    cr_assert_eq(b.data[b.len], '\0');
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(b.data[i], (char)('a' + i % 26), "byte %d wrong", i);
    pa_buf_free(&b);
}

Test(buf, binary_data_with_nul_bytes)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_put(&b, "a\0b\0c", 5);
    cr_assert_eq(b.len, 5);
    cr_assert_eq(memcmp(b.data, "a\0b\0c", 5), 0);
    cr_assert_eq(b.data[5], '\0');
    pa_buf_free(&b);
}

Test(buf, reserve_does_not_change_length)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "abc");
    pa_buf_reserve(&b, 10000);
    cr_assert_eq(b.len, 3);
    cr_assert_geq(b.cap, 10004);
    cr_assert_str_eq(b.data, "abc");
    char *before = b.data;
    for (int i = 0; i < 10000; i++) pa_buf_putc(&b, 'x');
    cr_assert_eq(b.data, before, "reserve(10000) did not make room for 10000 more bytes");
    pa_buf_free(&b);
}

Test(buf, printf_short_and_appending)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, ">");
    pa_buf_printf(&b, "%d-%s-%.2f", 42, "x", 1.5);
    pa_buf_printf(&b, "%s", "");
    pa_buf_printf(&b, "|%05u", 7u);
    cr_assert_str_eq(b.data, ">42-x-1.50|00007");
    cr_assert_eq(b.len, strlen(">42-x-1.50|00007"));
    pa_buf_free(&b);
}

Test(buf, printf_longer_than_internal_scratch)
{
    char big[5000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "start:");
    pa_buf_printf(&b, "%s:%d", big, 12345);
    cr_assert_eq(b.len, 6 + 4999 + 6);
    cr_assert_eq(strncmp(b.data, "start:", 6), 0);
    cr_assert_eq(strspn(b.data + 6, "q"), 4999);
    cr_assert_str_eq(b.data + 6 + 4999, ":12345");
    cr_assert_eq(b.data[b.len], '\0');
    /* exactly at the 255/256 boundary */
    pa_buf_reset(&b);
    pa_buf_printf(&b, "%.255s", big);
    cr_assert_eq(b.len, 255);
    pa_buf_printf(&b, "%.256s", big);
    cr_assert_eq(b.len, 511);
    cr_assert_eq(strspn(b.data, "q"), 511);
    pa_buf_free(&b);
}

Test(buf, reset_keeps_memory_and_empties)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "something");
    size_t cap = b.cap;
    pa_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(b.cap, cap);
    pa_buf_puts(&b, "new");
    cr_assert_str_eq(b.data, "new");
    pa_buf_free(&b);
    pa_buf_reset(&b); /* on a freed buffer: must not crash */
    pa_buf_free(&b);
}

Test(buf, detach_hands_over_and_empties)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "payload");
    size_t len = 0;
    char *p = pa_buf_detach(&b, &len);
    cr_assert_str_eq(p, "payload");
    cr_assert_eq(len, 7);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    free(p);
    /* the buffer is reusable after detach */
    pa_buf_puts(&b, "again");
    cr_assert_str_eq(b.data, "again");
    pa_buf_free(&b);
}

Test(buf, detach_of_empty_buffer_is_empty_string_not_null)
{
    mallopt(M_PERTURB, 0x5a); /* make fresh heap memory non-zero (ASan does so anyway) */
    pa_buf_t b = PA_BUF_INIT;
    size_t len = 99;
    char *p = pa_buf_detach(&b, &len);
    cr_assert_not_null(p);
    char first = p[0];
    free(p);
    cr_assert_eq(len, 0);
    cr_assert_eq(first, '\0', "detach of an empty buffer is not \"\" (first byte 0x%02x)",
                 (unsigned char)first);
}

Test(buf, reserve_on_empty_buffer_keeps_it_terminated)
{
    mallopt(M_PERTURB, 0x5a); /* make fresh heap memory non-zero (ASan does so anyway) */
    /* pa_buf.h: "data is always NUL-terminated when cap > 0" */
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_reserve(&b, 100);
    cr_assert_gt(b.cap, 0);
    char first = b.data[0];
    pa_buf_free(&b);
    cr_assert_eq(first, '\0', "data not terminated after reserve (first byte 0x%02x)",
                 (unsigned char)first);
}

Test(buf_json, plain_ascii_is_quoted_verbatim)
{
    char *s = esc("hello world", 11);
    cr_assert_str_eq(s, "\"hello world\"");
    free(s);
    s = esc("", 0);
    cr_assert_str_eq(s, "\"\"");
    free(s);
    s = esc("abcdef", 3); /* only n bytes are taken */
    cr_assert_str_eq(s, "\"abc\"");
    free(s);
}

Test(buf_json, quotes_and_backslashes)
{
    const char in[] = "say \"hi\" \\ C:\\path\\";
    char *s = esc(in, strlen(in));
    cr_assert_str_eq(s, "\"say \\\"hi\\\" \\\\ C:\\\\path\\\\\"");
    json_t *j = parse_literal(s);
    cr_assert_str_eq(json_string_value(j), in);
    json_decref(j);
    free(s);
}

Test(buf_json, named_control_escapes)
{
    char *s = esc("a\nb\rc\td", 7);
    cr_assert_str_eq(s, "\"a\\nb\\rc\\td\"");
    free(s);
}

Test(buf_json, other_control_chars_as_u00xx)
{
    const char in[] = "\x01\x08\x0b\x0c\x1b\x1f";
    char *s = esc(in, 6);
    /* Each must be \u00XX (or the short forms \b \f, which JSON also allows). */
    json_t *j = parse_literal(s);
    cr_assert_eq(json_string_length(j), 6);
    cr_assert_eq(memcmp(json_string_value(j), in, 6), 0);
    json_decref(j);
    for (const char *p = s + 1; p[1]; p++)
        cr_assert_geq((unsigned char)*p, 0x20, "raw control byte 0x%02x left in %s",
                      (unsigned char)*p, s);
    cr_assert(strstr(s, "\\u0001") && strstr(s, "\\u001f") && strstr(s, "\\u001b"),
              "expected \\u00XX escapes: %s", s);
    free(s);
}

Test(buf_json, embedded_nul_is_escaped_not_truncated)
{
    char *s = esc("a\0b", 3);
    cr_assert_str_eq(s, "\"a\\u0000b\"");
    json_t *j = parse_literal(s);
    cr_assert_eq(json_string_length(j), 3);
    cr_assert_eq(memcmp(json_string_value(j), "a\0b", 3), 0);
    json_decref(j);
    free(s);
}

Test(buf_json, utf8_passes_through_unescaped)
{
    const char in[] = "Zoë Müller — ΣΟΦΙΑ 東京 😀";
    char *s = esc(in, strlen(in));
    cr_assert_eq(strlen(s), strlen(in) + 2);
    cr_assert_eq(memcmp(s + 1, in, strlen(in)), 0, "UTF-8 bytes were altered: %s", s);
    json_t *j = parse_literal(s);
    cr_assert_str_eq(json_string_value(j), in);
    json_decref(j);
    free(s);
}

Test(buf_json, every_ascii_byte_round_trips)
{
    char in[128];
    for (int i = 0; i < 128; i++) in[i] = (char)i;
    char *s = esc(in, sizeof in);
    json_t *j = parse_literal(s);
    cr_assert_eq(json_string_length(j), 128);
    cr_assert_eq(memcmp(json_string_value(j), in, 128), 0);
    json_decref(j);
    free(s);
}

Test(buf_json, appends_after_existing_content)
{
    pa_buf_t b = PA_BUF_INIT;
    pa_buf_puts(&b, "{\"k\":");
    pa_buf_json_str(&b, "v\"1", 3);
    pa_buf_putc(&b, '}');
    cr_assert_str_eq(b.data, "{\"k\":\"v\\\"1\"}");
    json_t *j = json_loads(b.data, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "k")), "v\"1");
    json_decref(j);
    pa_buf_free(&b);
}

Test(buf_json, long_string_with_escapes_everywhere)
{
    size_t n = 20000;
    char *in = malloc(n);
    for (size_t i = 0; i < n; i++) in[i] = "a\"\\\n\x01z"[i % 6];
    char *s = esc(in, n);
    json_t *j = parse_literal(s);
    cr_assert_eq(json_string_length(j), n);
    cr_assert_eq(memcmp(json_string_value(j), in, n), 0);
    json_decref(j);
    free(s);
    free(in);
}
