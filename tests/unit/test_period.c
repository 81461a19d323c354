/*
 * test_period.c
 *    Period texts into [start, end) and a kind: every form of period.h,
 *    relative texts with and without an as-of date, and every error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/ewc/period.h"

static void
expect_at(const char *text, int32_t as_of, enum etl_period_kind kind, int32_t start,
          int32_t end)
{
    struct etl_period p;
    struct etl_err err;

    etl_err_clear(&err);
    if (etl_period_parse(text, as_of, &p, &err) != 0) {
        fail_msg("\"%s\": %s", text, err.msg);
    }
    if (p.kind != kind || p.start != start || p.end != end) {
        fail_msg("\"%s\": got %s [%d, %d), expected %s [%d, %d)", text,
                 etl_period_kind_names[p.kind], p.start, p.end,
                 etl_period_kind_names[kind], start, end);
    }
}

static void
expect(const char *text, enum etl_period_kind kind, int32_t start, int32_t end)
{
    expect_at(text, 0, kind, start, end);
}

static void
expect_error_at(const char *text, int32_t as_of, const char *msg)
{
    struct etl_period p;
    struct etl_err err;

    etl_err_clear(&err);
    assert_int_equal(etl_period_parse(text, as_of, &p, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, "");
    assert_int_equal(p.kind, ETL_PERIOD_NONE);
}

static void
expect_error(const char *text, const char *msg)
{
    expect_error_at(text, 0, msg);
}

static void
test_years(void **state)
{
    (void)state;
    expect("2021", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect("2021年", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect("2021年度", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect("2021年全年", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect(" 2021 ", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect("２０２１年", ETL_PERIOD_YEAR, 20210101, 20220101);
}

static void
test_halves(void **state)
{
    (void)state;
    expect("2022年上半年", ETL_PERIOD_HALF, 20220101, 20220701);
    expect("2022年下半年", ETL_PERIOD_HALF, 20220701, 20230101);
    expect("2022H1", ETL_PERIOD_HALF, 20220101, 20220701);
    expect("2022h2", ETL_PERIOD_HALF, 20220701, 20230101);
    expect("2022-S1", ETL_PERIOD_HALF, 20220101, 20220701);
    expect("2022-H2", ETL_PERIOD_HALF, 20220701, 20230101);
    expect("２０２２年上半年", ETL_PERIOD_HALF, 20220101, 20220701);
    expect("２０２２Ｈ１", ETL_PERIOD_HALF, 20220101, 20220701);
}

static void
test_quarters(void **state)
{
    (void)state;
    expect("2021年第三季度", ETL_PERIOD_QUARTER, 20210701, 20211001);
    expect("2021年第一季度", ETL_PERIOD_QUARTER, 20210101, 20210401);
    expect("2021年四季度", ETL_PERIOD_QUARTER, 20211001, 20220101);
    expect("2021年第2季度", ETL_PERIOD_QUARTER, 20210401, 20210701);
    expect("2021Q3", ETL_PERIOD_QUARTER, 20210701, 20211001);
    expect("2021-Q3", ETL_PERIOD_QUARTER, 20210701, 20211001);
    expect("2021q4", ETL_PERIOD_QUARTER, 20211001, 20220101);
    expect("2021－Ｑ3", ETL_PERIOD_QUARTER, 20210701, 20211001);
}

static void
test_months(void **state)
{
    (void)state;
    expect("2021年6月", ETL_PERIOD_MONTH, 20210601, 20210701);
    expect("2021年12月", ETL_PERIOD_MONTH, 20211201, 20220101);
    expect("2021年十二月", ETL_PERIOD_MONTH, 20211201, 20220101);
    expect("2021年6月份", ETL_PERIOD_MONTH, 20210601, 20210701);
    expect("2021-06", ETL_PERIOD_MONTH, 20210601, 20210701);
    expect("2021-6", ETL_PERIOD_MONTH, 20210601, 20210701);
    expect("2021-M06", ETL_PERIOD_MONTH, 20210601, 20210701);
    expect("２０２１－０６", ETL_PERIOD_MONTH, 20210601, 20210701);
}

static void
test_cumulative_months(void **state)
{
    (void)state;
    expect("2021年1-7月", ETL_PERIOD_MONTHS, 20210101, 20210801);
    expect("2021年1—7月", ETL_PERIOD_MONTHS, 20210101, 20210801);
    expect("2021年1–7月", ETL_PERIOD_MONTHS, 20210101, 20210801);
    expect("2021年1至7月", ETL_PERIOD_MONTHS, 20210101, 20210801);
    expect("2021年1月-7月", ETL_PERIOD_MONTHS, 20210101, 20210801);
    expect("2021年1-12月", ETL_PERIOD_MONTHS, 20210101, 20220101);
    expect("2021年前三季度", ETL_PERIOD_MONTHS, 20210101, 20211001);
    expect("2021年1～7月", ETL_PERIOD_MONTHS, 20210101, 20210801);
}

static void
test_plans(void **state)
{
    (void)state;
    expect("十三五", ETL_PERIOD_RANGE, 20160101, 20210101);
    expect("十四五", ETL_PERIOD_RANGE, 20210101, 20260101);
    expect("十二五", ETL_PERIOD_RANGE, 20110101, 20160101);
    expect("十一五", ETL_PERIOD_RANGE, 20060101, 20110101);
    expect("十五", ETL_PERIOD_RANGE, 20010101, 20060101);
    expect("九五", ETL_PERIOD_RANGE, 19960101, 20010101);
    expect("“十三五”时期", ETL_PERIOD_RANGE, 20160101, 20210101);
    expect("\"十四五\"期间", ETL_PERIOD_RANGE, 20210101, 20260101);
    expect("第十三五", ETL_PERIOD_RANGE, 20160101, 20210101);
    expect("十三五规划期间", ETL_PERIOD_RANGE, 20160101, 20210101);
}

static void
test_ranges(void **state)
{
    (void)state;
    expect("1996—2011", ETL_PERIOD_RANGE, 19960101, 20120101);
    expect("1996-2011", ETL_PERIOD_RANGE, 19960101, 20120101);
    expect("1996–2011", ETL_PERIOD_RANGE, 19960101, 20120101);
    expect("1996——2011", ETL_PERIOD_RANGE, 19960101, 20120101);
    expect("1996~2011", ETL_PERIOD_RANGE, 19960101, 20120101);
    expect("1996年至2011年", ETL_PERIOD_RANGE, 19960101, 20120101);
    expect("2012年至2020年", ETL_PERIOD_RANGE, 20120101, 20210101);
    expect("2012-2020年", ETL_PERIOD_RANGE, 20120101, 20210101);
    expect("2012年-2020年", ETL_PERIOD_RANGE, 20120101, 20210101);
    expect("2012到2020年", ETL_PERIOD_RANGE, 20120101, 20210101);
    expect("１９９６—２０１１", ETL_PERIOD_RANGE, 19960101, 20120101);
    expect("2020-2020", ETL_PERIOD_YEAR, 20200101, 20210101);
}

static void
test_sdmx(void **state)
{
    (void)state;
    expect("2016-01-01/P5Y", ETL_PERIOD_RANGE, 20160101, 20210101);
    expect("2021-01-01/P1Y", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect("2021-07-01/P6M", ETL_PERIOD_HALF, 20210701, 20220101);
    expect("2021-04-01/P3M", ETL_PERIOD_QUARTER, 20210401, 20210701);
    expect("2021-06-01/P1M", ETL_PERIOD_MONTH, 20210601, 20210701);
    expect("2021-01-01/P7M", ETL_PERIOD_MONTHS, 20210101, 20210801);
    expect("2021-03-15/P1Y", ETL_PERIOD_RANGE, 20210315, 20220315);
}

static void
test_relative(void **state)
{
    (void)state;
    expect_error("今年", "relative period \"今年\" needs the file's as-of date");
    expect_error("一年多来", "relative period \"一年多来\" needs the file's as-of date");
    expect_error("去年上半年", "relative period \"去年上半年\" needs the file's as-of date");
    expect_error("上半年", "relative period \"上半年\" needs the file's as-of date");
    expect_error("1-7月", "relative period \"1-7月\" needs the file's as-of date");
    expect_error("第三季度", "relative period \"第三季度\" needs the file's as-of date");
    expect_error("近三年", "relative period \"近三年\" needs the file's as-of date");
    expect_error("多年来", "relative period \"多年来\" needs the file's as-of date");

    expect_at("今年", 20220815, ETL_PERIOD_YEAR, 20220101, 20230101);
    expect_at("今年上半年", 20220815, ETL_PERIOD_HALF, 20220101, 20220701);
    expect_at("去年", 20220815, ETL_PERIOD_YEAR, 20210101, 20220101);
    expect_at("去年第四季度", 20220815, ETL_PERIOD_QUARTER, 20211001, 20220101);
    expect_at("上年", 20220815, ETL_PERIOD_YEAR, 20210101, 20220101);
    expect_at("前年", 20220815, ETL_PERIOD_YEAR, 20200101, 20210101);
    expect_at("上半年", 20220815, ETL_PERIOD_HALF, 20220101, 20220701);
    expect_at("1-7月", 20220815, ETL_PERIOD_MONTHS, 20220101, 20220801);
    expect_at("一年多来", 20220815, ETL_PERIOD_RANGE, 20210815, 20220815);
    expect_at("三年来", 20220815, ETL_PERIOD_RANGE, 20190815, 20220815);
    expect_at("近三年", 20220815, ETL_PERIOD_RANGE, 20190815, 20220815);
    expect_at("2021", 20220815, ETL_PERIOD_YEAR, 20210101, 20220101);
    expect_error_at("多年来", 20220815, "vague period \"多年来\"");
    expect_error_at("近年来", 20220815, "vague period \"近年来\"");
}

static void
test_since(void **state)
{
    (void)state;
    expect_at("2012年至今", 20220815, ETL_PERIOD_RANGE, 20120101, 20230101);
    expect_at("2012年以来", 20220815, ETL_PERIOD_RANGE, 20120101, 20230101);
    expect_at("2012至今", 20220815, ETL_PERIOD_RANGE, 20120101, 20230101);
    expect_at("自2012年以来", 20220815, ETL_PERIOD_RANGE, 20120101, 20230101);
    expect_at("从2012年至今", 20220815, ETL_PERIOD_RANGE, 20120101, 20230101);
    expect_at("２０１２年以来", 20220815, ETL_PERIOD_RANGE, 20120101, 20230101);
    expect_at(" 2012 年 以来 ", 20220815, ETL_PERIOD_RANGE, 20120101, 20230101);
    /* starting in the as-of year: still a range, not the whole year */
    expect_at("2022年以来", 20220815, ETL_PERIOD_RANGE, 20220101, 20230101);
    expect_error("2012年至今", "relative period \"2012年至今\" needs the file's as-of date");
    expect_error("2012年以来", "relative period \"2012年以来\" needs the file's as-of date");
    expect_error("自2012年以来",
                 "relative period \"自2012年以来\" needs the file's as-of date");
    expect_error_at("2023年以来", 20220815, "period \"2023年以来\" ends before it starts");
    expect_error_at("2012年以来上半年", 20220815, "invalid period \"2012年以来上半年\"");
    expect_error_at("2012年至今年", 20220815, "invalid period \"2012年至今年\"");
    expect_error_at("2012至今天", 20220815, "invalid period \"2012至今天\"");
    expect_error_at("自2012年", 20220815, "invalid period \"自2012年\"");
    expect_error_at("自今年以来", 20220815, "invalid period \"自今年以来\"");
}

static void
test_brief_forms(void **state)
{
    (void)state;
    /* the forms of the issue, each as written there */
    expect("2021年全年", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect("2021年度", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect("２０２１年", ETL_PERIOD_YEAR, 20210101, 20220101);
    expect("２０２１年度", ETL_PERIOD_YEAR, 20210101, 20220101);
    /* 1—6月 is months, not a half: the file said months */
    expect("2022年1—6月", ETL_PERIOD_MONTHS, 20220101, 20220701);
    expect("2022年1-6月", ETL_PERIOD_MONTHS, 20220101, 20220701);
    expect("2022年前三季度", ETL_PERIOD_MONTHS, 20220101, 20221001);
    expect("2022年前两季度", ETL_PERIOD_MONTHS, 20220101, 20220701);
    expect_error("2022年前五季度", "invalid period \"2022年前五季度\"");
    expect_error("2021年全年度", "invalid period \"2021年全年度\"");
}

static void
test_errors(void **state)
{
    char big[200];

    (void)state;
    expect_error("", "invalid period \"\"");
    expect_error("xyz", "invalid period \"xyz\"");
    expect_error("202", "invalid period \"202\"");
    expect_error("20210", "invalid period \"20210\"");
    expect_error("0999", "invalid period \"0999\"");
    expect_error("2021年第五季度", "invalid period \"2021年第五季度\"");
    expect_error("2021Q5", "invalid period \"2021Q5\"");
    expect_error("2021H3", "invalid period \"2021H3\"");
    expect_error("2021年7", "invalid period \"2021年7\"");
    expect_error("2021年中", "invalid period \"2021年中\"");
    expect_error("2021-01-01/P0Y", "invalid period \"2021-01-01/P0Y\"");
    expect_error("2021-01-01/P5W", "invalid period \"2021-01-01/P5W\"");
    expect_error("2021-02-30/P1M", "invalid period \"2021-02-30/P1M\"");
    expect_error("135", "invalid period \"135\"");
    expect_error("五五", "invalid period \"五五\"");
    expect_error("2021-13", "invalid month 13 in period \"2021-13\"");
    expect_error("2021年13月", "invalid month 13 in period \"2021年13月\"");
    expect_error("2021年1-13月", "invalid month 13 in period \"2021年1-13月\"");
    expect_error("2021-M13", "invalid month 13 in period \"2021-M13\"");
    /* the month is quoted as written: no number is built from the digits */
    expect_error("2021-13-99999999999",
                 "invalid month 13 in period \"2021-13-99999999999\"");
    expect_error("2021-00-99999999999999999999",
                 "invalid month 00 in period \"2021-00-99999999999999999999\"");
    expect_error("2021年十三月", "invalid month 十三 in period \"2021年十三月\"");
    expect_error("2021年1-十三月", "invalid month 十三 in period \"2021年1-十三月\"");
    expect_error("2021年14-15月", "invalid month 14 in period \"2021年14-15月\"");
    expect_error("２０２１年１３月", "invalid month 13 in period \"２０２１年１３月\"");
    expect_error("2021年99999999999月", "invalid period \"2021年99999999999月\"");
    expect_error("2021年1-99999999999月", "invalid period \"2021年1-99999999999月\"");
    expect_error("2021年第99999999999季度", "invalid period \"2021年第99999999999季度\"");
    expect_error("2021-01-01/P99999999999Y", "invalid period \"2021-01-01/P99999999999Y\"");
    expect_error("99999999999-2021", "invalid period \"99999999999-2021\"");
    expect_error("2021-99999999999", "invalid period \"2021-99999999999\"");
    expect_error("第99999999999五", "invalid period \"第99999999999五\"");
    expect_error_at("99999999999年来", 20220801, "invalid period \"99999999999年来\"");
    expect_error("2020-2012", "period \"2020-2012\" ends before it starts");
    expect_error("2021年7-1月", "period \"2021年7-1月\" ends before it starts");
    memset(big, '2', 130);
    big[130] = '\0';
    expect_error(big, "invalid period \"222222222222222222222222222222222222222222222222222222222222…\"");
}

static void
test_dates(void **state)
{
    int32_t d = 0;

    (void)state;
    assert_int_equal(etl_date_parse("2022-08-01", &d), 0);
    assert_int_equal(d, 20220801);
    assert_int_equal(etl_date_parse("20240229", &d), 0);
    assert_int_equal(d, 20240229);
    assert_int_equal(etl_date_parse("2023-02-29", &d), -1);
    assert_int_equal(etl_date_parse("2022-13-01", &d), -1);
    assert_int_equal(etl_date_parse("2022-2-01", &d), -1);
    assert_int_equal(etl_date_parse("2022/02/01", &d), -1);
    assert_int_equal(etl_date_parse("", &d), -1);
    assert_int_equal(etl_date_add_months(20160131, 1), 20160229);
    assert_int_equal(etl_date_add_months(20211101, 3), 20220201);
    assert_int_equal(etl_date_add_months(20220815, -12), 20210815);
}

/* The blanks of etl_text_trim around a period; full-width forms folded. */
static void
test_blanks_and_full_width(void **state)
{
    (void)state;
    expect("\xC2\xA0" "2022年" "\xC2\xA0", ETL_PERIOD_YEAR, 20220101, 20230101);
    expect("\r\n2022年\xE3\x80\x80", ETL_PERIOD_YEAR, 20220101, 20230101);
    expect("\xEF\xBC\x92\xEF\xBC\x90\xEF\xBC\x92\xEF\xBC\x92年",      /* ２０２２年 */
           ETL_PERIOD_YEAR, 20220101, 20230101);
    /* EF BC with a byte that is not a continuation byte is not ！ */
    expect_error("2022\xEF\xBC" "A", "invalid period \"2022\xEF\xBC" "A\"");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_years),
        cmocka_unit_test(test_halves),
        cmocka_unit_test(test_quarters),
        cmocka_unit_test(test_months),
        cmocka_unit_test(test_cumulative_months),
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_sdmx),
        cmocka_unit_test(test_relative),
        cmocka_unit_test(test_since),
        cmocka_unit_test(test_brief_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_blanks_and_full_width),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
