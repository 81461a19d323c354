/*
 * test_date.c
 *    Civil dates: leap years, month lengths, day numbers at the epoch, at
 *    leap days, before the epoch and at the ends of the range, yyyymmdd
 *    parsing, month arithmetic and ISO formatting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/date.h"

/* Day number of y-m-d, and back. */
static void
expect_days(int64_t y, int m, int d, int64_t days)
{
    int64_t yy;
    int mm, dd;

    assert_int_equal(etl_date_days_from_civil(y, m, d), days);
    etl_date_civil_from_days(days, &yy, &mm, &dd);
    assert_int_equal(yy, y);
    assert_int_equal(mm, m);
    assert_int_equal(dd, d);
}

static void
test_leap(void **state)
{
    (void)state;
    assert_true(etl_date_is_leap(2024));
    assert_false(etl_date_is_leap(2023));
    assert_false(etl_date_is_leap(1900));
    assert_false(etl_date_is_leap(2100));
    assert_true(etl_date_is_leap(2000));
    assert_true(etl_date_is_leap(1600));
    assert_true(etl_date_is_leap(0));
    assert_true(etl_date_is_leap(-4));
    assert_false(etl_date_is_leap(-1));
    assert_false(etl_date_is_leap(-100));
    assert_true(etl_date_is_leap(-400));
    assert_int_equal(etl_date_days_in_month(2024, 2), 29);
    assert_int_equal(etl_date_days_in_month(2023, 2), 28);
    assert_int_equal(etl_date_days_in_month(1900, 2), 28);
    assert_int_equal(etl_date_days_in_month(2000, 2), 29);
    assert_int_equal(etl_date_days_in_month(2023, 1), 31);
    assert_int_equal(etl_date_days_in_month(2023, 4), 30);
    assert_int_equal(etl_date_days_in_month(2023, 12), 31);
}

static void
test_days(void **state)
{
    (void)state;
    expect_days(1970, 1, 1, 0);
    expect_days(1970, 1, 2, 1);
    expect_days(1969, 12, 31, -1);
    expect_days(1968, 2, 29, -672);
    expect_days(2000, 2, 29, 11016);
    expect_days(2000, 3, 1, 11017);
    expect_days(1900, 2, 28, -25509);
    expect_days(1900, 3, 1, -25508);
    expect_days(2024, 2, 29, 19782);
    expect_days(2038, 1, 19, 24855);
    expect_days(0, 3, 1, -719468);
    expect_days(0, 2, 29, -719469);
    expect_days(-1, 12, 31, -719529);
    expect_days(1, 1, 1, -719162);
    expect_days(9999, 12, 31, 2932896);
}

static void
test_days_range_ends(void **state)
{
    int64_t y;
    int m, d;

    (void)state;
    /* far from the epoch on both sides: a round trip and the year length */
    expect_days(1000000, 1, 1, etl_date_days_from_civil(999999, 1, 1) + 365);
    expect_days(-1000000, 3, 1, etl_date_days_from_civil(-1000000, 2, 29) + 1);
    expect_days(INT32_MAX, 12, 31, etl_date_days_from_civil(INT32_MAX, 12, 30) + 1);
    expect_days(INT32_MIN, 1, 1, etl_date_days_from_civil(INT32_MIN, 1, 2) - 1);
    /* every day of a 400-year cycle across the epoch round-trips */
    for (int64_t z = -146097; z <= 146097; z++) {
        etl_date_civil_from_days(z, &y, &m, &d);
        assert_true(m >= 1 && m <= 12);
        assert_true(d >= 1 && d <= etl_date_days_in_month(y, m));
        assert_int_equal(etl_date_days_from_civil(y, m, d), z);
    }
}

static void
test_weekday(void **state)
{
    (void)state;
    assert_int_equal(etl_date_weekday(0), 4);                   /* Thursday */
    assert_int_equal(etl_date_weekday(-1), 3);
    assert_int_equal(etl_date_weekday(-4), 0);
    assert_int_equal(etl_date_weekday(etl_date_days_from_civil(2026, 12, 2)), 3);
    assert_int_equal(etl_date_weekday(etl_date_days_from_civil(1900, 1, 1)), 1);
}

static void
test_parse(void **state)
{
    int32_t d = 7;

    (void)state;
    assert_int_equal(etl_date_parse("2022-08-01", &d), 0);
    assert_int_equal(d, 20220801);
    assert_int_equal(etl_date_parse("20240229", &d), 0);
    assert_int_equal(d, 20240229);
    assert_int_equal(etl_date_parse("1000-01-01", &d), 0);
    assert_int_equal(d, 10000101);
    assert_int_equal(etl_date_parse("9999-12-31", &d), 0);
    assert_int_equal(d, 99991231);
    d = 7;
    assert_int_equal(etl_date_parse("0999-12-31", &d), -1);
    assert_int_equal(etl_date_parse("1900-02-29", &d), -1);
    assert_int_equal(etl_date_parse("2022-04-31", &d), -1);
    assert_int_equal(etl_date_parse("2022-00-10", &d), -1);
    assert_int_equal(etl_date_parse("2022-01-00", &d), -1);
    assert_int_equal(etl_date_parse("2022-01-01x", &d), -1);
    assert_int_equal(etl_date_parse("2022_01-01", &d), -1);
    assert_int_equal(etl_date_parse("2022010a", &d), -1);
    assert_int_equal(d, 7);                     /* untouched on failure */
}

static void
test_add_months(void **state)
{
    (void)state;
    assert_int_equal(etl_date_add_months(20240131, 1), 20240229);
    assert_int_equal(etl_date_add_months(20230131, 1), 20230228);
    assert_int_equal(etl_date_add_months(20240229, 12), 20250228);
    assert_int_equal(etl_date_add_months(20240229, 48), 20280229);
    assert_int_equal(etl_date_add_months(20221215, 1), 20230115);
    assert_int_equal(etl_date_add_months(20230115, -1), 20221215);
    assert_int_equal(etl_date_add_months(20230331, -1), 20230228);
    assert_int_equal(etl_date_add_months(20230101, 0), 20230101);
}

static void
test_format(void **state)
{
    char out[12];

    (void)state;
    memset(out, 'x', sizeof(out));
    etl_date_format(out, 20220801);
    assert_string_equal(out, "2022-08-01");
    assert_int_equal(out[11], 'x');             /* 11 bytes written */
    etl_date_format(out, 10000101);
    assert_string_equal(out, "1000-01-01");
    etl_date_format(out, 99991231);
    assert_string_equal(out, "9999-12-31");
    etl_date_format(out, 0);
    assert_string_equal(out, "0000-00-00");
    etl_date_format(out, -20220801);
    assert_string_equal(out, "0000-00-00");
    etl_date_format(out, 120220801);            /* a ninth digit is dropped */
    assert_string_equal(out, "2022-08-01");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leap),
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_days_range_ends),
        cmocka_unit_test(test_weekday),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_add_months),
        cmocka_unit_test(test_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
