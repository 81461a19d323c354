/*
 * test_plausible.c
 *    The magnitude check (stages/plausible.c) with the bundled catalog: a
 *    file whose figures are 10,000 times too small or too large is refused
 *    with the factor; right figures of every level and period are not, nor
 *    is one odd figure among right ones; a file without ranged figures is
 *    never refused.
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
#include "stages/plausible.h"
#include "support.h"

static struct etl_catalog *cat;

static int
setup(void **state)
{
    (void)state;
    if ((cat = test_catalog_load()) == NULL) {
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    etl_catalog_free(cat);
    return 0;
}

/* Count a normalized row: indicator code, region code, period, value. */
static void
add(struct plausible *pl, const char *indicator, const char *region, int32_t start,
    int32_t end, const char *value)
{
    struct etl_row r;

    test_row(&r, cat, indicator, region, ETL_PERIOD_YEAR, start, end, value);
    assert_non_null(r.indicator);
    plausible_add(pl, &r);
}

static void
verdict_of(struct plausible *pl, struct etl_verdict *v)
{
    memset(v, 0, sizeof(*v));
    plausible_verdict(pl, v);
}

static void
test_too_small(void **state)
{
    struct etl_err err;
    struct plausible *pl = plausible_new(cat, &err);
    struct etl_verdict v;

    (void)state;
    assert_non_null(pl);
    /* 342.3亿元 and a province's 80亿元 read from a 万元 column as yuan */
    add(pl, "investment_in_place", "000000", 20220101, 20220701, "3423000");
    add(pl, "investment_in_place", "440000", 20220101, 20220701, "800000");
    add(pl, "cadres_exchanged", "000000", 20220101, 20220701, "2448");
    verdict_of(pl, &v);
    assert_int_equal(v.kind, ETL_VERDICT_REFUSED);
    assert_string_equal(v.reason, "values of investment_in_place look about 10000× too small "
                        "for their periods and regions (2 figures): unit?");

    /* a new file: the same figures in yuan */
    plausible_reset(pl);
    add(pl, "investment_in_place", "000000", 20220101, 20220701, "34230000000");
    add(pl, "investment_in_place", "440000", 20220101, 20220701, "8000000000");
    add(pl, "investment_in_place", "320500", 20220101, 20220701, "300000000");
    add(pl, "cadres_exchanged", "000000", 20220101, 20220701, "2448");
    /* one odd figure among right ones does not refuse the file */
    add(pl, "cadres_exchanged", "440000", 20220101, 20220701, "1");
    add(pl, "cadres_exchanged", "320000", 20220101, 20220701, "300");
    verdict_of(pl, &v);
    assert_int_equal(v.kind, ETL_VERDICT_OK);
    plausible_free(pl);
}

static void
test_too_large_and_periods(void **state)
{
    struct etl_err err;
    struct plausible *pl = plausible_new(cat, &err);
    struct etl_verdict v;

    (void)state;
    assert_non_null(pl);
    /* 2,448 cadres written in 万人 */
    add(pl, "cadres_exchanged", "000000", 20220101, 20220701, "24480000");
    verdict_of(pl, &v);
    assert_int_equal(v.kind, ETL_VERDICT_REFUSED);
    assert_string_equal(v.reason, "values of cadres_exchanged look about 10000× too large "
                        "for their periods and regions (1 figures): unit?");

    /* 16 years of labour export and 9 years of funds: plausible sums */
    plausible_reset(pl);
    add(pl, "labour_export", "000000", 19960101, 20120101, "2650000");
    add(pl, "free_aid_funds", "000000", 19960101, 20120101, "7860000000");
    add(pl, "fiscal_social_funds", "000000", 20120101, 20210101, "100540000000");
    add(pl, "enterprise_investment", "000000", 20120101, 20210101, "1000000000000");
    /* a growth rate has no range: never refused */
    add(pl, "poverty_labour_employed_growth", "000000", 20210101, 20220101, "0.000001");
    verdict_of(pl, &v);
    assert_int_equal(v.kind, ETL_VERDICT_OK);

    /* a refusal already made stands (the first wins) */
    plausible_reset(pl);
    add(pl, "cadres_exchanged", "000000", 20220101, 20220701, "24480000");
    memset(&v, 0, sizeof(v));
    etl_verdict_refuse(&v, "reject ratio");
    plausible_verdict(pl, &v);
    assert_string_equal(v.reason, "reject ratio");
    plausible_free(pl);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_too_large_and_periods),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
