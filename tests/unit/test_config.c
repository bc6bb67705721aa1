/* pa_config: environment variables with defaults, bounds and errors that name the variable. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pa_config.h"

#define VAR "PA_TEST_CONFIG_VAR"

static void clear(void)
{
    unsetenv(VAR);
}

TestSuite(config, .init = clear, .fini = clear);

/* Asserts that the error names the variable and quotes the offending value. */
static void assert_err_names(const char *err, const char *value)
{
    cr_assert(strstr(err, VAR) != NULL, "error does not name the variable: \"%s\"", err);
    if (value) cr_assert(strstr(err, value) != NULL, "error does not show the value: \"%s\"", err);
}

/* ---- pa_env_long -------------------------------------------------------------------------- */

Test(config, long_unset_gives_default)
{
    long v = -1;
    char err[256] = "";
    cr_assert_eq(pa_env_long(VAR, 8080, 1, 65535, &v, err, sizeof err), 0);
    cr_assert_eq(v, 8080);
}

Test(config, long_empty_gives_default)
{
    setenv(VAR, "", 1);
    long v = -1;
    char err[256] = "";
    cr_assert_eq(pa_env_long(VAR, 7, 0, 10, &v, err, sizeof err), 0);
    cr_assert_eq(v, 7);
}

Test(config, long_parses_values_within_bounds)
{
    long v;
    char err[256];
    setenv(VAR, "42", 1);
    cr_assert_eq(pa_env_long(VAR, 0, 0, 100, &v, err, sizeof err), 0);
    cr_assert_eq(v, 42);
    setenv(VAR, "-5", 1);
    cr_assert_eq(pa_env_long(VAR, 0, -10, 10, &v, err, sizeof err), 0);
    cr_assert_eq(v, -5);
    /* both bounds are inclusive */
    setenv(VAR, "1", 1);
    cr_assert_eq(pa_env_long(VAR, 0, 1, 65535, &v, err, sizeof err), 0);
    cr_assert_eq(v, 1);
    setenv(VAR, "65535", 1);
    cr_assert_eq(pa_env_long(VAR, 0, 1, 65535, &v, err, sizeof err), 0);
    cr_assert_eq(v, 65535);
}

Test(config, long_below_min_is_an_error_naming_the_variable)
{
    setenv(VAR, "0", 1);
    long v = 123;
    char err[256] = "";
    cr_assert_eq(pa_env_long(VAR, 8080, 1, 65535, &v, err, sizeof err), -1);
    assert_err_names(err, "0");
    cr_assert(strstr(err, "1") && strstr(err, "65535"), "error does not give the bounds: %s", err);
}

Test(config, long_above_max_is_an_error)
{
    setenv(VAR, "65536", 1);
    long v;
    char err[256] = "";
    cr_assert_eq(pa_env_long(VAR, 8080, 1, 65535, &v, err, sizeof err), -1);
    assert_err_names(err, "65536");
}

Test(config, long_rejects_garbage)
{
    const char *bad[] = {"12abc", "abc", "1.5", "0x10", "--1", "9223372036854775808", "1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(VAR, bad[i], 1);
        long v;
        char err[256] = "";
        cr_assert_eq(pa_env_long(VAR, 1, 0, 1000, &v, err, sizeof err), -1, "accepted \"%s\"",
                     bad[i]);
        assert_err_names(err, NULL);
    }
}

Test(config, long_error_fits_a_small_buffer)
{
    setenv(VAR, "not a number at all, and quite a long value to report", 1);
    long v;
    char err[16];
    memset(err, 'x', sizeof err);
    cr_assert_eq(pa_env_long(VAR, 1, 0, 10, &v, err, sizeof err), -1);
    cr_assert_eq(err[sizeof err - 1], '\0', "error message not terminated within errlen");
}

/* ---- pa_env_bool -------------------------------------------------------------------------- */

Test(config, bool_unset_and_empty_give_default)
{
    int v = -1;
    char err[256];
    cr_assert_eq(pa_env_bool(VAR, 1, &v, err, sizeof err), 0);
    cr_assert_eq(v, 1);
    setenv(VAR, "", 1);
    cr_assert_eq(pa_env_bool(VAR, 0, &v, err, sizeof err), 0);
    cr_assert_eq(v, 0);
}

Test(config, bool_true_spellings)
{
    const char *yes[] = {"1", "true", "TRUE", "True", "yes", "YES", "on", "On"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        setenv(VAR, yes[i], 1);
        int v = 0;
        char err[256];
        cr_assert_eq(pa_env_bool(VAR, 0, &v, err, sizeof err), 0, "rejected \"%s\"", yes[i]);
        cr_assert_eq(v, 1, "\"%s\" is not true", yes[i]);
    }
}

Test(config, bool_false_spellings)
{
    const char *no[] = {"0", "false", "FALSE", "no", "No", "off", "OFF"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        setenv(VAR, no[i], 1);
        int v = 1;
        char err[256];
        cr_assert_eq(pa_env_bool(VAR, 1, &v, err, sizeof err), 0, "rejected \"%s\"", no[i]);
        cr_assert_eq(v, 0, "\"%s\" is not false", no[i]);
    }
}

Test(config, bool_garbage_is_an_error_naming_the_variable)
{
    const char *bad[] = {"maybe", "2", "yess", "t", "enabled"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(VAR, bad[i], 1);
        int v;
        char err[256] = "";
        cr_assert_eq(pa_env_bool(VAR, 0, &v, err, sizeof err), -1, "accepted \"%s\"", bad[i]);
        assert_err_names(err, bad[i]);
    }
}

/* ---- pa_env_str --------------------------------------------------------------------------- */

Test(config, str_default_and_value)
{
    cr_assert_str_eq(pa_env_str(VAR, "dflt"), "dflt");
    cr_assert_null(pa_env_str(VAR, NULL));
    setenv(VAR, "", 1);
    cr_assert_str_eq(pa_env_str(VAR, "dflt"), "dflt");
    setenv(VAR, "value with spaces", 1);
    cr_assert_str_eq(pa_env_str(VAR, "dflt"), "value with spaces");
}

/* ---- pa_env_size -------------------------------------------------------------------------- */

static int size_of(const char *value, size_t *out, char *err, size_t errlen)
{
    if (value) setenv(VAR, value, 1);
    return pa_env_size(VAR, 1048576, 1, (size_t)64 << 30, out, err, errlen);
}

Test(config, size_unset_and_empty_give_default)
{
    size_t v = 0;
    char err[256];
    cr_assert_eq(size_of(NULL, &v, err, sizeof err), 0);
    cr_assert_eq(v, 1048576);
    cr_assert_eq(size_of("", &v, err, sizeof err), 0);
    cr_assert_eq(v, 1048576);
}

Test(config, size_plain_and_suffixed)
{
    struct {
        const char *in;
        size_t want;
    } cases[] = {
        {"1", 1},
        {"1024", 1024},
        {"4k", 4096},
        {"4K", 4096},
        {"2m", 2u << 20},
        {"2M", 2u << 20},
        {"1g", (size_t)1 << 30},
        {"3G", (size_t)3 << 30},
        {"64g", (size_t)64 << 30},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t v = 0;
        char err[256] = "";
        cr_assert_eq(size_of(cases[i].in, &v, err, sizeof err), 0, "rejected \"%s\": %s",
                     cases[i].in, err);
        cr_assert_eq(v, cases[i].want, "\"%s\" gave %zu, want %zu", cases[i].in, v, cases[i].want);
    }
}

Test(config, size_rejects_garbage_and_names_the_variable)
{
    const char *bad[] = {"-1", "-1k", "10x", "k", "1.5m", "1kb", "abc", "4 k", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t v;
        char err[256] = "";
        cr_assert_eq(size_of(bad[i], &v, err, sizeof err), -1, "accepted \"%s\" as %zu", bad[i], v);
        assert_err_names(err, bad[i]);
    }
}

Test(config, size_bounds)
{
    size_t v;
    char err[256] = "";
    setenv(VAR, "0", 1);
    cr_assert_eq(pa_env_size(VAR, 10, 1, 100, &v, err, sizeof err), -1, "0 below min 1 accepted");
    assert_err_names(err, "0");
    setenv(VAR, "101", 1);
    cr_assert_eq(pa_env_size(VAR, 10, 1, 100, &v, err, sizeof err), -1, "101 above max accepted");
    setenv(VAR, "100", 1);
    cr_assert_eq(pa_env_size(VAR, 10, 1, 100, &v, err, sizeof err), 0);
    cr_assert_eq(v, 100);
    /* the suffix applies before the bound check */
    setenv(VAR, "1k", 1);
    cr_assert_eq(pa_env_size(VAR, 10, 1, 1000, &v, err, sizeof err), -1,
                 "1k (1024) > 1000 accepted");
    setenv(VAR, "1k", 1);
    cr_assert_eq(pa_env_size(VAR, 10, 2000, 4096, &v, err, sizeof err), -1, "1k < 2000 accepted");
}

Test(config, size_overflow_is_rejected_not_wrapped)
{
    size_t v = 0;
    char err[256] = "";
    /* 2^54 g overflows 64 bits after the multiplication */
    setenv(VAR, "18014398509481984g", 1);
    cr_assert_eq(pa_env_size(VAR, 10, 1, SIZE_MAX, &v, err, sizeof err), -1,
                 "accepted an overflowing size as %zu", v);
    setenv(VAR, "99999999999999999999999", 1);
    cr_assert_eq(pa_env_size(VAR, 10, 1, SIZE_MAX, &v, err, sizeof err), -1,
                 "accepted an overflowing size as %zu", v);
}

Test(config, size_negative_behind_whitespace_is_rejected)
{
    /* strtoull accepts leading blanks and a minus sign ("-1" becomes SIZE_MAX), so a check on the
     * first character alone lets " -1" through when max is SIZE_MAX. */
    size_t v = 0;
    char err[256] = "";
    setenv(VAR, " -1", 1);
    cr_assert_eq(pa_env_size(VAR, 10, 1, SIZE_MAX, &v, err, sizeof err), -1,
                 "\" -1\" was accepted as %zu", v);
}
