/*
 * test_years.c
 *    The --year parser (etl/years.c): one year, a range, blanks around "..",
 *    repeats and overlaps gathered sorted without duplicates, and each
 *    refusal with its message: not a year, a reversed range, a year out of
 *    bounds, too many years; a refused text leaves the list unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "etl/years.h"

/* 'ys' formatted must read 'want'. */
static void
check_list(const struct etl_years *ys, const char *want)
{
    char out[2048];

    etl_years_format(ys, out, sizeof(out));
    assert_string_equal(out, want);
}

/* Adding 'text' to 'ys' fails with message 'want'; 'ys' is unchanged. */
static void
check_refused(struct etl_years *ys, const char *text, const char *want)
{
    struct etl_years before = *ys;
    struct etl_err err;

    etl_err_clear(&err);
    assert_int_equal(etl_years_add(ys, text, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, want);
    assert_int_equal(ys->n, before.n);
    assert_memory_equal(ys->v, before.v, sizeof(before.v));
}

static void
test_one_and_range(void **state)
{
    struct etl_years ys = { .n = 0 };
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_years_add(&ys, "2021", &err), 0);
    check_list(&ys, "2021");
    ys.n = 0;
    assert_int_equal(etl_years_add(&ys, "2020..2022", &err), 0);
    assert_int_equal(ys.n, 3);
    assert_int_equal(ys.v[0], 2020);
    assert_int_equal(ys.v[1], 2021);
    assert_int_equal(ys.v[2], 2022);
    check_list(&ys, "2020..2022");
    ys.n = 0;
    assert_int_equal(etl_years_add(&ys, " 2019 .. 2019 ", &err), 0);
    check_list(&ys, "2019");
    assert_int_equal(etl_years_add(&ys, "1900..1901", &err), 0);
    assert_int_equal(etl_years_add(&ys, "2100", &err), 0);
    check_list(&ys, "1900, 1901, 2019, 2100");
    assert_int_equal(err.code, ETL_E_NONE);
}

static void
test_repeats_sorted(void **state)
{
    struct etl_years ys = { .n = 0 };
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_years_add(&ys, "2022", &err), 0);
    assert_int_equal(etl_years_add(&ys, "2020", &err), 0);
    check_list(&ys, "2020, 2022");
    assert_int_equal(etl_years_add(&ys, "2021..2023", &err), 0);
    assert_int_equal(etl_years_add(&ys, "2022", &err), 0);
    assert_int_equal(ys.n, 4);
    check_list(&ys, "2020..2023");
}

static void
test_refused(void **state)
{
    struct etl_years ys = { .n = 0 };
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_years_add(&ys, "2021", &err), 0);
    check_refused(&ys, "20x1", "expected a year or a range such as 2020..2022, found \"20x1\"");
    check_refused(&ys, "", "expected a year or a range such as 2020..2022, found \"\"");
    check_refused(&ys, "-2021", "expected a year or a range such as 2020..2022, "
                  "found \"-2021\"");
    check_refused(&ys, "2020..", "expected a year or a range such as 2020..2022, "
                  "found \"2020..\"");
    check_refused(&ys, "..2020", "expected a year or a range such as 2020..2022, "
                  "found \"..2020\"");
    check_refused(&ys, "2020...2022", "expected a year or a range such as 2020..2022, "
                  "found \"2020...2022\"");
    check_refused(&ys, "2020-2022", "expected a year or a range such as 2020..2022, "
                  "found \"2020-2022\"");
    check_refused(&ys, "2022..2020", "year range \"2022..2020\" ends before it starts");
    check_refused(&ys, "1899", "year 1899 is out of range (1900 to 2100)");
    check_refused(&ys, "2020..2101", "year 2101 is out of range (1900 to 2100)");
    check_refused(&ys, "99999999999999999999", "year 1000000000 is out of range "
                  "(1900 to 2100)");
    check_list(&ys, "2021");
}

static void
test_too_many(void **state)
{
    struct etl_years ys = { .n = 0 };
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_years_add(&ys, "1900..2099", &err), 0);
    assert_int_equal(ys.n, ETL_YEARS_MAX);
    /* a year already there adds nothing, so it is no error */
    assert_int_equal(etl_years_add(&ys, "1950..1960", &err), 0);
    check_refused(&ys, "2100", "too many years (at most 200)");
    ys.n = 0;
    check_refused(&ys, "1900..2100", "too many years (at most 200)");
    assert_int_equal(ys.n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_and_range),
        cmocka_unit_test(test_repeats_sorted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_too_many),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
