/*
 * test_reconcile.c
 *    The streamed reconciliation (stages/reconcile.c) with the bundled
 *    catalog: exact decimal sums at the largest scale, the tolerance at its
 *    edge, which rows stay out (pairs, of-which, prefectures, non-additive
 *    indicators, blanks), the order of the differences, and values too long
 *    for exact sums, which must send the load to the database instead of
 *    giving a rounded answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "etl/ewc/catalog.h"
#include "etl/ewc/row.h"
#include "stages/reconcile.h"
#include "support.h"

static struct etl_catalog *cat;
static struct reconcile *rc;

static int
setup(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    if ((cat = test_catalog_load()) == NULL) {
        return -1;
    }
    rc = reconcile_new(cat, &err);
    return rc == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    reconcile_free(rc);
    etl_catalog_free(cat);
    return 0;
}

static int
reset(void **state)
{
    (void)state;
    reconcile_reset(rc);
    return 0;
}

/* Add a row: indicator code, region, partner ("" for none), year, value. */
static void
add_full(const char *indicator, const char *region, const char *partner, int year,
         const char *value, bool of_which)
{
    struct etl_row r;
    struct etl_err err;

    test_row(&r, cat, indicator, region, ETL_PERIOD_YEAR, year * 10000 + 101,
             (year + 1) * 10000 + 101, value);
    assert_non_null(r.indicator);
    etl_err_clear(&err);
    strcpy(r.partner, partner);
    r.of_which = of_which;
    assert_int_equal(reconcile_add(rc, &r, &err), 0);
}

static void
add(const char *indicator, const char *region, int year, const char *value)
{
    add_full(indicator, region, "", year, value, false);
}

struct found {
    struct reconcile_diff *d;
    size_t n;
};

static int
collect(void *ctx, const struct reconcile_diff *d, struct etl_err *err)
{
    struct found *f = ctx;

    (void)err;
    f->d = realloc(f->d, (f->n + 1) * sizeof(*f->d));
    assert_non_null(f->d);
    f->d[f->n++] = *d;
    return 0;
}

/* The differences at 0.5%; their count. */
static size_t
diffs(struct reconcile_diff **d)
{
    struct found f = { NULL, 0 };
    struct etl_err err;

    etl_err_clear(&err);
    assert_int_equal(reconcile_each_difference(rc, 5000, collect, &f, &err), 0);
    *d = f.d;
    return f.n;
}

/* 0.1 + 0.2 is 0.3 exactly, at the scale PostgreSQL's sum() gives. */
static void
test_exact_sum(void **state)
{
    struct reconcile_diff *d;

    (void)state;
    add("enterprises_guided", "000000", 2021, "100");
    add("enterprises_guided", "440000", 2021, "0.1");
    add("enterprises_guided", "450000", 2021, "0.20");
    assert_true(reconcile_exact(rc));
    assert_true(reconcile_any(rc));
    assert_int_equal(diffs(&d), 1);
    assert_string_equal(d[0].indicator, "enterprises_guided");
    assert_string_equal(d[0].national, "100");
    assert_string_equal(d[0].total, "0.30");
    assert_int_equal(d[0].regions, 2);
    assert_int_equal(d[0].start, 20210101);
    assert_int_equal(d[0].end, 20220101);
    free(d);
}

/* Sums that a double would round: 10^17 + 1 + 1 kept whole. */
static void
test_large_exact(void **state)
{
    struct reconcile_diff *d;

    (void)state;
    add("investment_in_place", "000000", 2021, "100000000000000002");
    add("investment_in_place", "440000", 2021, "100000000000000000");
    add("investment_in_place", "450000", 2021, "1");
    add("investment_in_place", "510000", 2021, "1");
    assert_int_equal(diffs(&d), 0);
    free(d);
    reconcile_reset(rc);
    add("investment_in_place", "000000", 2021, "-0.5");
    add("investment_in_place", "440000", 2021, "-12.25");
    assert_int_equal(diffs(&d), 1);
    assert_string_equal(d[0].national, "-0.5");
    assert_string_equal(d[0].total, "-12.25");
    free(d);
}

/*
 * The tolerance: greatest(|national| * 0.5%, 1).  1000 against 1005 is
 * within, 1005.01 is not; 10 against 11 is within (at least 1 unit), 11.01
 * is not.
 */
static void
test_tolerance_edge(void **state)
{
    struct reconcile_diff *d;

    (void)state;
    add("enterprises_guided", "000000", 2021, "1000");
    add("enterprises_guided", "440000", 2021, "1005");
    add("enterprises_guided", "000000", 2022, "1000");
    add("enterprises_guided", "440000", 2022, "1005.01");
    add("cadres_exchanged", "000000", 2021, "10");
    add("cadres_exchanged", "440000", 2021, "11");
    add("cadres_exchanged", "000000", 2022, "10");
    add("cadres_exchanged", "440000", 2022, "11.01");
    assert_int_equal(diffs(&d), 2);
    /* in order of indicator, then period */
    assert_string_equal(d[0].indicator, "cadres_exchanged");
    assert_int_equal(d[0].start, 20220101);
    assert_string_equal(d[0].total, "11.01");
    assert_string_equal(d[1].indicator, "enterprises_guided");
    assert_int_equal(d[1].start, 20220101);
    free(d);
}

/* Pairs, of-which rows, prefectures, blanks and non-additive indicators
 * stay out of the sums; a group without national row or without province
 * rows is not a difference. */
static void
test_left_out(void **state)
{
    struct reconcile_diff *d;

    (void)state;
    add("enterprises_guided", "000000", 2021, "10");
    add("enterprises_guided", "440000", 2021, "10");
    add_full("enterprises_guided", "440000", "450000", 2021, "500", false);
    add_full("enterprises_guided", "440000", "", 2021, "500", true);
    add("enterprises_guided", "440100", 2021, "500");
    add("enterprises_guided", "450000", 2021, "");
    add("poverty_labour_employed_growth", "000000", 2021, "5");
    add("poverty_labour_employed_growth", "440000", 2021, "50");
    add("cadres_exchanged", "440000", 2021, "50");
    add("paired_schools", "000000", 2021, "50");
    assert_int_equal(diffs(&d), 0);
    assert_null(d);
}

/* Values longer than 18 digits cannot be summed exactly: the differences
 * are refused with ETL_E_INTERNAL, so that the caller asks the database. */
static void
test_inexact(void **state)
{
    struct found f = { NULL, 0 };
    struct etl_err err;

    (void)state;
    add("enterprises_guided", "000000", 2021, "1");
    assert_true(reconcile_exact(rc));
    add("enterprises_guided", "440000", 2021, "1234567890123456789");
    assert_false(reconcile_exact(rc));
    etl_err_clear(&err);
    assert_int_equal(reconcile_each_difference(rc, 5000, collect, &f, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_int_equal(f.n, 0);
    /* a sum that overflows while adding, too */
    reconcile_reset(rc);
    assert_true(reconcile_exact(rc));
    add("enterprises_guided", "000000", 2021, "1");
    for (int i = 0; i < 20; i++) {
        add("enterprises_guided", "440000", 2021, "999999999999999999");
    }
    assert_false(reconcile_exact(rc));
    /* scales so far apart that the comparison would overflow 128 bits */
    reconcile_reset(rc);
    add("enterprises_guided", "000000", 2021, "0.000000000000000001");
    add("enterprises_guided", "440000", 2021, "999999999999999999");
    assert_true(reconcile_exact(rc));
    f.n = 0;
    etl_err_clear(&err);
    assert_int_equal(reconcile_each_difference(rc, 5000, collect, &f, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_int_equal(f.n, 0);
    /* a value that is not a plain decimal is never guessed at */
    reconcile_reset(rc);
    add("enterprises_guided", "000000", 2021, "1e5");
    assert_false(reconcile_exact(rc));
}

/* Many groups: the table grows and every group keeps its own sums. */
static void
test_many_groups(void **state)
{
    struct reconcile_diff *d;
    size_t n;

    (void)state;
    for (int y = 1990; y < 2040; y++) {
        char v[16];

        snprintf(v, sizeof(v), "%d", y);
        add("enterprises_guided", "000000", y, y % 2 ? "1" : v);
        add("enterprises_guided", "440000", y, v);
        add("labour_export", "000000", y, v);
        add("labour_export", "450000", y, v);
    }
    n = diffs(&d);
    assert_int_equal(n, 25);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(d[i].indicator, "enterprises_guided");
        assert_int_equal(d[i].start / 10000 % 2, 1);
        assert_string_equal(d[i].national, "1");
        assert_true(i == 0 || d[i].start > d[i - 1].start);
    }
    free(d);
}

/* More groups than the bound: the sums are left to the database. */
static void
test_bounded(void **state)
{
    struct etl_row r;
    struct etl_err err;

    (void)state;
    test_row(&r, cat, "enterprises_guided", "000000", ETL_PERIOD_MONTH, 0, 0, "1");
    assert_non_null(r.indicator);
    etl_err_clear(&err);
    for (int32_t i = 0; i < RECONCILE_MAX_GROUPS; i++) {
        r.period.start = 10000000 + i;
        r.period.end = 10000001 + i;
        assert_int_equal(reconcile_add(rc, &r, &err), 0);
    }
    assert_true(reconcile_exact(rc));
    /* a group already there is no new one */
    r.period.start = 10000000;
    r.period.end = 10000001;
    assert_int_equal(reconcile_add(rc, &r, &err), 0);
    assert_true(reconcile_exact(rc));
    r.period.start = 20000000;
    r.period.end = 20000001;
    assert_int_equal(reconcile_add(rc, &r, &err), 0);
    assert_false(reconcile_exact(rc));
    /* and many more after it: no error, still left to the database */
    for (int32_t i = 1; i <= RECONCILE_MAX_GROUPS; i++) {
        r.period.start = 20000000 + i;
        r.period.end = 20000001 + i;
        assert_int_equal(reconcile_add(rc, &r, &err), 0);
    }
    assert_false(reconcile_exact(rc));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_exact_sum, reset),
        cmocka_unit_test_setup(test_large_exact, reset),
        cmocka_unit_test_setup(test_tolerance_edge, reset),
        cmocka_unit_test_setup(test_left_out, reset),
        cmocka_unit_test_setup(test_inexact, reset),
        cmocka_unit_test_setup(test_many_groups, reset),
        cmocka_unit_test_setup(test_bounded, reset),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
