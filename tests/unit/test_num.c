/*
 * test_num.c
 *    Value texts into exact decimals: digits, separators, full-width forms,
 *    multipliers, Chinese numerals, qualifiers, missing markers, unit words,
 *    shifting by powers of ten, and every error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/ewc/num.h"

static void
expect_num(const char *text, const char *value, enum etl_qualifier q, const char *unit)
{
    struct etl_num n;
    struct etl_err err;

    etl_err_clear(&err);
    if (etl_num_parse(text, &n, &err) != 0) {
        fail_msg("\"%s\": %s", text, err.msg);
    }
    assert_string_equal(n.value, value);
    assert_int_equal(n.qualifier, q);
    assert_int_equal(n.unit_len, strlen(unit));
    if (n.unit_len > 0) {
        assert_memory_equal(n.unit, unit, n.unit_len);
    }
    assert_int_equal(err.code, ETL_E_NONE);
}

static void
expect_error(const char *text, const char *msg)
{
    struct etl_num n;
    struct etl_err err;

    etl_err_clear(&err);
    assert_int_equal(etl_num_parse(text, &n, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, "");
}

static void
test_plain(void **state)
{
    (void)state;
    expect_num("2193", "2193", ETL_Q_EXACT, "");
    expect_num("2,193", "2193", ETL_Q_EXACT, "");
    expect_num("1,005.4", "1005.4", ETL_Q_EXACT, "");
    expect_num("12,345,678.90", "12345678.9", ETL_Q_EXACT, "");
    expect_num("0", "0", ETL_Q_EXACT, "");
    expect_num("0.0", "0", ETL_Q_EXACT, "");
    expect_num("00012", "12", ETL_Q_EXACT, "");
    expect_num("0.050", "0.05", ETL_Q_EXACT, "");
    expect_num("100", "100", ETL_Q_EXACT, "");
    expect_num("-3.50", "-3.5", ETL_Q_EXACT, "");
    expect_num("+7", "7", ETL_Q_EXACT, "");
    expect_num("-0", "0", ETL_Q_EXACT, "");
    expect_num("  12 \t", "12", ETL_Q_EXACT, "");
    expect_num("\xE3\x80\x80" "12" "\xE3\x80\x80", "12", ETL_Q_EXACT, "");
}

static void
test_full_width(void **state)
{
    (void)state;
    expect_num("９２６．３", "926.3", ETL_Q_EXACT, "");
    expect_num("１，００５．４", "1005.4", ETL_Q_EXACT, "");
    expect_num("－５", "-5", ETL_Q_EXACT, "");
    expect_num("＋５", "5", ETL_Q_EXACT, "");
    expect_num("\xE2\x88\x92" "5", "-5", ETL_Q_EXACT, "");    /* U+2212 */
    expect_num("１，００５．４亿元", "100540000000", ETL_Q_EXACT, "元");
    expect_num("９２６．３万", "9263000", ETL_Q_EXACT, "");
}

static void
test_multipliers(void **state)
{
    struct etl_num n;
    struct etl_err err;

    (void)state;
    expect_num("926.3万", "9263000", ETL_Q_EXACT, "");
    expect_num("78.6亿", "7860000000", ETL_Q_EXACT, "");
    expect_num("342.3亿", "34230000000", ETL_Q_EXACT, "");
    expect_num("0.5万", "5000", ETL_Q_EXACT, "");
    expect_num("2万亿", "2000000000000", ETL_Q_EXACT, "");
    expect_num("1万多亿", "1000000000000", ETL_Q_LOWER, "");
    expect_num("3千万", "30000000", ETL_Q_EXACT, "");
    expect_num("5百万元", "5000000", ETL_Q_EXACT, "元");
    expect_num("1,005.4亿元", "100540000000", ETL_Q_EXACT, "元");
    /* 千 not before 万/亿 is left to the unit word */
    expect_num("5千元", "5", ETL_Q_EXACT, "千元");
    etl_err_clear(&err);
    assert_int_equal(etl_num_parse("1万多亿", &n, &err), 0);
    assert_int_equal(n.mult, 12);
    assert_int_equal(etl_num_parse("813亿元", &n, &err), 0);
    assert_int_equal(n.mult, 8);
    assert_int_equal(etl_num_parse("813", &n, &err), 0);
    assert_int_equal(n.mult, 0);
}

static void
test_chinese_numerals(void **state)
{
    (void)state;
    expect_num("八万", "80000", ETL_Q_EXACT, "");
    expect_num("三百", "300", ETL_Q_EXACT, "");
    expect_num("十二", "12", ETL_Q_EXACT, "");
    expect_num("十", "10", ETL_Q_EXACT, "");
    expect_num("二十", "20", ETL_Q_EXACT, "");
    expect_num("一百零五", "105", ETL_Q_EXACT, "");
    expect_num("两千", "2000", ETL_Q_EXACT, "");
    expect_num("一万二千", "12000", ETL_Q_EXACT, "");
    expect_num("八万亿", "8000000000000", ETL_Q_EXACT, "");
    expect_num("三百多万", "3000000", ETL_Q_LOWER, "");
    expect_num("三个", "3", ETL_Q_EXACT, "个");
    expect_num("约八万人", "80000", ETL_Q_APPROX, "人");
}

static void
test_qualifiers(void **state)
{
    (void)state;
    expect_num("500多万", "5000000", ETL_Q_LOWER, "");
    expect_num("1000余人", "1000", ETL_Q_LOWER, "人");
    expect_num("逾500万人", "5000000", ETL_Q_LOWER, "人");
    expect_num("超过2000", "2000", ETL_Q_LOWER, "");
    expect_num("超2000家", "2000", ETL_Q_LOWER, "家");
    expect_num("500万人以上", "5000000", ETL_Q_LOWER, "人");
    expect_num("500万 以上", "5000000", ETL_Q_LOWER, "");
    expect_num("约12%", "12", ETL_Q_APPROX, "%");
    expect_num("大约12", "12", ETL_Q_APPROX, "");
    expect_num("近3000", "3000", ETL_Q_APPROX, "");
    expect_num("将近3000", "3000", ETL_Q_APPROX, "");
    expect_num("接近3000", "3000", ETL_Q_APPROX, "");
    expect_num("500万左右", "5000000", ETL_Q_APPROX, "");
    /* the first qualifier wins */
    expect_num("约500多万", "5000000", ETL_Q_APPROX, "");
}

static void
test_units(void **state)
{
    (void)state;
    expect_num("265万人次", "2650000", ETL_Q_EXACT, "人次");
    expect_num("813亿元", "81300000000", ETL_Q_EXACT, "元");
    expect_num("926.3万人", "9263000", ETL_Q_EXACT, "人");
    expect_num("12%", "12", ETL_Q_EXACT, "%");
    expect_num("12％", "12", ETL_Q_EXACT, "％");
    expect_num("468 所", "468", ETL_Q_EXACT, "所");
    expect_num("482个", "482", ETL_Q_EXACT, "个");
    expect_num("5吨", "5", ETL_Q_EXACT, "吨");
}

static void
test_missing(void **state)
{
    static const char *const missing[] = {
        "", "   ", "\xE3\x80\x80", "-", "--", "—", "——", "–", "－", "…", "……", "...", "..",
        "NA", "N/A", "n/a", " — ", NULL
    };

    (void)state;
    for (const char *const *m = missing; *m != NULL; m++) {
        expect_num(*m, "", ETL_Q_MISSING, "");
    }
}

static void
test_errors(void **state)
{
    char big[200];

    (void)state;
    expect_error("abc", "invalid number \"abc\"");
    expect_error("1,5", "misplaced thousands separator: \"1,5\"");
    expect_error("1,50", "misplaced thousands separator: \"1,50\"");
    expect_error("1,5000", "misplaced thousands separator: \"1,5000\"");
    expect_error("1234,567", "misplaced thousands separator: \"1234,567\"");
    expect_error("1,234,56", "misplaced thousands separator: \"1,234,56\"");
    expect_error("1,00,0", "misplaced thousands separator: \"1,00,0\"");
    expect_error("1.234,5", "misplaced thousands separator: \"1.234,5\"");
    expect_error("１，２３４，５６万", "misplaced thousands separator: \"１，２３４，５６万\"");
    expect_error("12.", "invalid number \"12.\"");
    expect_error("1..5", "invalid number \"1..5\"");
    expect_error(".5", "invalid number \".5\"");
    expect_error("1.2.3", "more than one decimal point: \"1.2.3\"");
    expect_error("１．２．３", "more than one decimal point: \"１．２．３\"");
    expect_error("12-3", "invalid number \"12-3\"");
    expect_error("万", "invalid number \"万\"");
    expect_error("约", "invalid number \"约\"");
    expect_error("--5", "more than one sign: \"--5\"");
    expect_error("+-5", "more than one sign: \"+-5\"");
    expect_error("约-－5万", "more than one sign: \"约-－5万\"");
    expect_error("- 5", "invalid number \"- 5\"");
    expect_error(" x12 ", "invalid number \"x12\"");
    /* 70 digits: too long for ETL_VALUE_MAX; the quote is cut at 60 bytes */
    memset(big, '7', 70);
    big[70] = '\0';
    expect_error(big, "value \"777777777777777777777777777777777777777777777777777777777777…\""
                      " does not fit 63 characters");
    /* 100 digits: past the digit buffer */
    memset(big, '1', 100);
    big[100] = '\0';
    expect_error(big, "value \"111111111111111111111111111111111111111111111111111111111111…\""
                      " does not fit 63 characters");
    /* 9 x 亿 = 10^72 */
    expect_error("1亿亿亿亿亿亿亿亿亿", "value \"1亿亿亿亿亿亿亿亿亿\" does not fit 63 characters");
    expect_error("0.000000000000000000000000000000000000000000000000000000000000000001",
                 "value \"0.0000000000000000000000000000000000000000000000000000000000…\""
                 " does not fit 63 characters");
    /* a cut never splits a character */
    expect_error("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十",
                 "invalid number \"一二三四五六七八九十一二三四五六七八九十…\"");
}

/* Notations that are no number and unit word ("1e3" is not 1 "e3"). */
static void
test_notations(void **state)
{
    (void)state;
    expect_error("1e3", "exponent notation is not accepted: \"1e3\"");
    expect_error("1e309", "exponent notation is not accepted: \"1e309\"");
    expect_error("1E3", "exponent notation is not accepted: \"1E3\"");
    expect_error("1.5e+3", "exponent notation is not accepted: \"1.5e+3\"");
    expect_error("-2e-3万元", "exponent notation is not accepted: \"-2e-3万元\"");
    expect_error("１ｅ３", "exponent notation is not accepted: \"１ｅ３\"");
    expect_error("0x10", "hexadecimal notation is not accepted: \"0x10\"");
    expect_error("0X1F", "hexadecimal notation is not accepted: \"0X1F\"");
    expect_error("1/2", "fractions are not accepted: \"1/2\"");
    /* letters that start no notation stay unit words for the catalog */
    expect_num("1e", "1", ETL_Q_EXACT, "e");
    expect_num("5E", "5", ETL_Q_EXACT, "E");
    expect_num("0x", "0", ETL_Q_EXACT, "x");
    expect_num("10x10", "10", ETL_Q_EXACT, "x10");
    expect_num("12元/人", "12", ETL_Q_EXACT, "元/人");
    expect_num("1 e3", "1", ETL_Q_EXACT, "e3");
}

/* Chinese numerals too large for the value are too long, never wrapped. */
static void
test_chinese_overflow(void **state)
{
    (void)state;
    expect_error("二千亿一亿一", "value \"二千亿一亿一\" does not fit 63 characters");
    expect_error("九千九百九十九万九千九百九十九亿九千九百九十九万九千九百九十九亿一",
                 "value \"九千九百九十九万九千九百九十九亿九千九百…\""
                 " does not fit 63 characters");
}

static void
expect_shift(const char *in, int pow10, const char *out)
{
    char v[ETL_VALUE_MAX];
    struct etl_err err;

    etl_err_clear(&err);
    strcpy(v, in);
    assert_int_equal(etl_num_shift(v, sizeof(v), pow10, &err), 0);
    assert_string_equal(v, out);
}

static void
test_shift(void **state)
{
    char v[ETL_VALUE_MAX];
    struct etl_err err;

    (void)state;
    expect_shift("78.6", 8, "7860000000");
    expect_shift("926.3", 4, "9263000");
    expect_shift("5", -2, "0.05");
    expect_shift("0.05", 2, "5");
    expect_shift("1.5", 0, "1.5");
    expect_shift("-1.5", 1, "-15");
    expect_shift("0", 8, "0");
    expect_shift("", 8, "");
    expect_shift("120", -1, "12");
    expect_shift("120", -3, "0.12");

    etl_err_clear(&err);
    strcpy(v, "1");
    assert_int_equal(etl_num_shift(v, sizeof(v), 64, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "value 1×10^64 does not fit 63 characters");
    assert_string_equal(v, "1");

    etl_err_clear(&err);
    strcpy(v, "12");
    assert_int_equal(etl_num_shift(v, 4, 2, &err), -1);
    assert_string_equal(err.msg, "value 12×10^2 does not fit 3 characters");

    etl_err_clear(&err);
    strcpy(v, "1x");
    assert_int_equal(etl_num_shift(v, sizeof(v), 2, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "invalid decimal \"1x\"");
}

static void
test_sign(void **state)
{
    (void)state;
    assert_int_equal(etl_num_sign("-1"), -1);
    assert_int_equal(etl_num_sign("0"), 0);
    assert_int_equal(etl_num_sign(""), 0);
    assert_int_equal(etl_num_sign("0.5"), 1);
    assert_int_equal(etl_num_sign("12"), 1);
}

static void
expect_decimal(const char *in, const char *out)
{
    char v[ETL_VALUE_MAX];

    memset(v, 'x', sizeof(v));
    if (etl_num_decimal(in, v, sizeof(v)) != 0) {
        fail_msg("\"%s\" refused", in);
    }
    assert_string_equal(v, out);
}

static void
test_decimal(void **state)
{
    char v[ETL_VALUE_MAX], small[4];

    (void)state;
    expect_decimal("0", "0");
    expect_decimal("-0", "0");
    expect_decimal("+7", "7");
    expect_decimal("10000000000000", "10000000000000");
    expect_decimal("1e13", "10000000000000");
    expect_decimal("1E+12", "1000000000000");
    expect_decimal("1.2e13", "12000000000000");
    expect_decimal("1.5E-3", "0.0015");
    expect_decimal("-2.50", "-2.5");
    expect_decimal("007.0", "7");
    expect_decimal(".5", "0.5");
    expect_decimal("5.", "5");
    expect_decimal("0e99", "0");
    /* 2^53 + 1: a double would round it */
    expect_decimal("9007199254740993", "9007199254740993");
    expect_decimal("123456789012345678901234567890.000000000000000000001",
                   "123456789012345678901234567890.000000000000000000001");

    assert_int_equal(etl_num_decimal("", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("-", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal(".", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("1.2.3", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("1e", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("1e+", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("1e5x", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("e5", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("1,000", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("1万", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("inf", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("nan", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("0x10", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal(" 1", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("1e64", v, sizeof(v)), -2);
    assert_int_equal(etl_num_decimal("1e99999", v, sizeof(v)), -2);
    assert_int_equal(etl_num_decimal("1e-99999999999999", v, sizeof(v)), -2);
    assert_int_equal(etl_num_decimal("0e99999999999999", v, sizeof(v)), 0);
    assert_string_equal(v, "0");
    assert_int_equal(etl_num_decimal("1e99999x", v, sizeof(v)), -1);
    assert_int_equal(etl_num_decimal("1234", small, sizeof(small)), -2);
    assert_int_equal(etl_num_decimal("123", small, sizeof(small)), 0);
    assert_string_equal(small, "123");
}

static void
test_cmp(void **state)
{
    (void)state;
    assert_int_equal(etl_num_cmp("12000000000000", "10000000000000"), 1);
    assert_int_equal(etl_num_cmp("10000000000000", "10000000000000"), 0);
    assert_int_equal(etl_num_cmp("9999999999999.99", "10000000000000"), -1);
    assert_int_equal(etl_num_cmp("10000000000000.01", "10000000000000"), 1);
    assert_int_equal(etl_num_cmp("9007199254740993", "9007199254740992"), 1);
    assert_int_equal(etl_num_cmp("12", "12.5"), -1);
    assert_int_equal(etl_num_cmp("12.5", "12"), 1);
    assert_int_equal(etl_num_cmp("1.5", "1.55"), -1);
    assert_int_equal(etl_num_cmp("0.05", "0.5"), -1);
    assert_int_equal(etl_num_cmp("0", "0.001"), -1);
    assert_int_equal(etl_num_cmp("0", "0"), 0);
    assert_int_equal(etl_num_cmp("0", "-0.001"), 1);
    assert_int_equal(etl_num_cmp("-5", "0"), -1);
    assert_int_equal(etl_num_cmp("-5", "-4"), -1);
    assert_int_equal(etl_num_cmp("-5", "-50"), 1);
    assert_int_equal(etl_num_cmp("-0.5", "-0.05"), -1);
    assert_int_equal(etl_num_cmp("-12.5", "-12.5"), 0);
    assert_int_equal(etl_num_cmp("99", "100"), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_full_width),
        cmocka_unit_test(test_multipliers),
        cmocka_unit_test(test_chinese_numerals),
        cmocka_unit_test(test_qualifiers),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_notations),
        cmocka_unit_test(test_chinese_overflow),
        cmocka_unit_test(test_shift),
        cmocka_unit_test(test_sign),
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_cmp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
