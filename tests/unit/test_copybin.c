/*
 * test_copybin.c
 *    Binary COPY encoding: header, trailer, tuple counts, NULL, text,
 *    integers, booleans, dates and numerics, byte for byte.  The expected
 *    bytes of the dates and numerics are what PostgreSQL 15's date_send and
 *    numeric_send give for the same value ("SELECT
 *    encode(numeric_send('123.4500'::numeric), 'hex')").  Every refused
 *    value leaves the buffer unchanged and names the value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "etl/copybin.h"

/* The bytes b[from, len) as lower-case hex into out. */
static void
hex(const struct etl_buf *b, size_t from, char *out, size_t size)
{
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = from; i < b->len && o + 3 <= size; i++) {
        o += (size_t)snprintf(out + o, size - o, "%02x", (unsigned char)b->data[i]);
    }
}

/*
 * A field appended after some bytes already there: its length word must
 * count what follows it, and what follows is 'want' (hex).
 */
static void
expect_field(const struct etl_buf *b, size_t from, const char *want)
{
    char got[2048], len[24];

    assert_true(b->len >= from + 4);
    hex(b, from + 4, got, sizeof(got));
    assert_string_equal(got, want);
    snprintf(len, sizeof(len), "%08zx", strlen(want) / 2);
    hex(b, from, got, sizeof(got));
    got[8] = '\0';
    assert_string_equal(got, len);
}

static void
expect_numeric(const char *text, const char *want)
{
    struct etl_buf b;
    struct etl_err err;

    etl_buf_init(&b, 1 << 16);
    etl_err_clear(&err);
    assert_int_equal(etl_buf_addstr(&b, "xy", &err), 0);
    if (etl_copybin_numeric(&b, text, &err) != 0) {
        fail_msg("\"%s\": %s", text, err.msg);
    }
    expect_field(&b, 2, want);
    assert_int_equal(err.code, ETL_E_NONE);
    etl_buf_free(&b);
}

/* A refused numeric: the message, the detail, nothing appended. */
static void
expect_numeric_error(const char *text, size_t n, const char *msg, const char *detail)
{
    struct etl_buf b;
    struct etl_err err;

    etl_buf_init(&b, 1 << 16);
    etl_err_clear(&err);
    assert_int_equal(etl_buf_addstr(&b, "xy", &err), 0);
    assert_int_equal(etl_copybin_numeric_n(&b, text, n, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.detail, detail);
    assert_string_equal(err.where, "");
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "xy");
    etl_buf_free(&b);
}

static void
test_header_trailer(void **state)
{
    struct etl_buf b;
    struct etl_err err;
    char got[128];

    (void)state;
    etl_buf_init(&b, 1024);
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_header(&b, &err), 0);
    assert_int_equal(b.len, 19);
    assert_memory_equal(b.data, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
    assert_int_equal(etl_copybin_tuple(&b, 3, &err), 0);
    assert_int_equal(etl_copybin_tuple(&b, 0, &err), 0);
    assert_int_equal(etl_copybin_tuple(&b, ETL_COPYBIN_FIELDS_MAX, &err), 0);
    assert_int_equal(etl_copybin_trailer(&b, &err), 0);
    hex(&b, 19, got, sizeof(got));
    assert_string_equal(got, "000300000640ffff");
    assert_int_equal(err.code, ETL_E_NONE);
    etl_buf_free(&b);
}

static void
test_tuple_count(void **state)
{
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    etl_buf_init(&b, 1024);
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_tuple(&b, -1, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "invalid field count -1 for binary COPY");
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_tuple(&b, ETL_COPYBIN_FIELDS_MAX + 1, &err), -1);
    assert_string_equal(err.msg, "invalid field count 1601 for binary COPY");
    assert_int_equal(b.len, 0);
    etl_buf_free(&b);
}

static void
test_scalars(void **state)
{
    struct etl_buf b;
    struct etl_err err;
    char got[256];

    (void)state;
    etl_buf_init(&b, 1024);
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_null(&b, &err), 0);
    assert_int_equal(etl_copybin_int2(&b, -2, &err), 0);
    assert_int_equal(etl_copybin_int2(&b, INT16_MAX, &err), 0);
    assert_int_equal(etl_copybin_int4(&b, -2, &err), 0);
    assert_int_equal(etl_copybin_int4(&b, 0x01020304, &err), 0);
    assert_int_equal(etl_copybin_int8(&b, -2, &err), 0);
    assert_int_equal(etl_copybin_int8(&b, INT64_MAX, &err), 0);
    assert_int_equal(etl_copybin_int8(&b, INT64_MIN, &err), 0);
    assert_int_equal(etl_copybin_bool(&b, true, &err), 0);
    assert_int_equal(etl_copybin_bool(&b, false, &err), 0);
    hex(&b, 0, got, sizeof(got));
    assert_string_equal(got,
                        "ffffffff"
                        "00000002" "fffe"
                        "00000002" "7fff"
                        "00000004" "fffffffe"
                        "00000004" "01020304"
                        "00000008" "fffffffffffffffe"
                        "00000008" "7fffffffffffffff"
                        "00000008" "8000000000000000"
                        "00000001" "01"
                        "00000001" "00");
    assert_int_equal(err.code, ETL_E_NONE);
    etl_buf_free(&b);
}

static void
test_text(void **state)
{
    struct etl_buf b;
    struct etl_err err;
    char got[256];

    (void)state;
    etl_buf_init(&b, 1024);
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_text(&b, "中文", &err), 0);
    assert_int_equal(etl_copybin_text(&b, "", &err), 0);
    assert_int_equal(etl_copybin_text(&b, NULL, &err), 0);
    assert_int_equal(etl_copybin_text_n(&b, "a\tb\nc", 3, &err), 0);
    hex(&b, 0, got, sizeof(got));
    assert_string_equal(got,
                        "00000006" "e4b8ade69687"
                        "00000000"
                        "ffffffff"
                        "00000003" "610962");
    etl_buf_free(&b);
}

/* A text past the buffer's maximum: an error, and no length word left behind. */
static void
test_text_too_big(void **state)
{
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    etl_buf_init(&b, 16);
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_int4(&b, 7, &err), 0);
    assert_int_equal(etl_copybin_text(&b, "0123456789", &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "text too long (more than 16 bytes)");
    assert_int_equal(b.len, 8);
    assert_int_equal(b.data[8], '\0');
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_numeric(&b, "123456789", &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_int_equal(b.len, 8);
    etl_buf_free(&b);
}

static void
test_dates(void **state)
{
    static const struct {
        int64_t days;
        int32_t ymd;
        const char *want;
    } cases[] = {
        { 10957, 20000101, "00000000" },
        { 0, 19700101, "ffffd533" },
        { -1, 19691231, "ffffd532" },
        { 19205, 20220801, "00002038" },
        { 19782, 20240229, "00002279" },
        { -719162, 10101, "fff4dbf9" },         /* 0001-01-01 */
    };
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    etl_buf_init(&b, 1024);
    etl_err_clear(&err);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        etl_buf_reset(&b);
        assert_int_equal(etl_copybin_date(&b, cases[i].days, &err), 0);
        expect_field(&b, 0, cases[i].want);
        etl_buf_reset(&b);
        assert_int_equal(etl_copybin_date_ymd(&b, cases[i].ymd, &err), 0);
        expect_field(&b, 0, cases[i].want);
    }
    /* the server's first and last dates: 4714-11-24 BC, 5874897-12-31 */
    etl_buf_reset(&b);
    assert_int_equal(etl_copybin_date(&b, -2440588, &err), 0);
    expect_field(&b, 0, "ffda97a7");
    etl_buf_reset(&b);
    assert_int_equal(etl_copybin_date(&b, 2145042905, &err), 0);
    expect_field(&b, 0, "7fda970c");
    assert_int_equal(err.code, ETL_E_NONE);
    etl_buf_free(&b);
}

static void
expect_date_error(int64_t days, int32_t ymd, bool by_ymd, const char *msg)
{
    struct etl_buf b;
    struct etl_err err;

    etl_buf_init(&b, 1024);
    etl_err_clear(&err);
    assert_int_equal(by_ymd ? etl_copybin_date_ymd(&b, ymd, &err)
                            : etl_copybin_date(&b, days, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, msg);
    assert_int_equal(b.len, 0);
    etl_buf_free(&b);
}

static void
test_date_errors(void **state)
{
    (void)state;
    expect_date_error(-2440589, 0, false,
                      "date out of range for PostgreSQL: day 1970-01-01 -2440589");
    expect_date_error(2145042906, 0, false,
                      "date out of range for PostgreSQL: day 1970-01-01 +2145042906");
    expect_date_error(INT64_MIN, 0, false,
                      "date out of range for PostgreSQL: day 1970-01-01 "
                      "-9223372036854775808");
    expect_date_error(INT64_MAX, 0, false,
                      "date out of range for PostgreSQL: day 1970-01-01 "
                      "+9223372036854775807");
    expect_date_error(0, 0, true, "invalid date 0");
    expect_date_error(0, -20220801, true, "invalid date -20220801");
    expect_date_error(0, 20220231, true, "invalid date 20220231");
    expect_date_error(0, 20230229, true, "invalid date 20230229");
    expect_date_error(0, 20221301, true, "invalid date 20221301");
    expect_date_error(0, 20220001, true, "invalid date 20220001");
    expect_date_error(0, 20220800, true, "invalid date 20220800");
    expect_date_error(0, 1231, true, "invalid date 1231");
}

/* Whole numbers, with the base-10000 boundaries. */
static void
test_numeric_integers(void **state)
{
    (void)state;
    expect_numeric("1", "00010000000000000001");
    expect_numeric("-1", "00010000400000000001");
    expect_numeric("9", "00010000000000000009");
    expect_numeric("10", "0001000000000000000a");
    expect_numeric("50", "00010000000000000032");
    expect_numeric("2193", "00010000000000000891");
    expect_numeric("9999", "0001000000000000270f");
    expect_numeric("10000", "00010001000000000001");
    expect_numeric("-10000", "00010001400000000001");
    expect_numeric("10001", "000200010000000000010001");
    expect_numeric("9263000", "0002000100000000039e0bb8");
    expect_numeric("99999999", "0002000100000000270f270f");
    expect_numeric("100000000", "00010002000000000001");
    expect_numeric("100000001", "0003000200000000000100000001");
    expect_numeric("7860000000", "0002000200000000004e1770");
    expect_numeric("100540000000", "000200020000000003ed0fa0");
    expect_numeric("1000000000000", "00010003000000000001");
    expect_numeric("1234567890123456789012345678901234567890",
                   "000a00090000000004d2162e23340d801ed204d2162e23340d801ed2");
    expect_numeric("007", "00010000000000000007");
}

/* Zero: no digits, weight 0, positive, the scale as written. */
static void
test_numeric_zero(void **state)
{
    (void)state;
    expect_numeric("0", "0000000000000000");
    expect_numeric("00", "0000000000000000");
    expect_numeric("-0", "0000000000000000");
    expect_numeric("0.0", "0000000000000001");
    expect_numeric("-0.00", "0000000000000002");
    expect_numeric("0.000", "0000000000000003");
}

/* Fractions: the scale as written, trailing zeros kept in it. */
static void
test_numeric_fractions(void **state)
{
    (void)state;
    expect_numeric("926.3", "0002000000000001039e0bb8");
    expect_numeric("1005.4", "000200000000000103ed0fa0");
    expect_numeric("0.5", "0001ffff000000011388");
    expect_numeric("-0.5", "0001ffff400000011388");
    expect_numeric("0.05", "0001ffff0000000201f4");
    expect_numeric("1.5", "000200000000000100011388");
    expect_numeric("123.45", "0002000000000002007b1194");
    expect_numeric("123.4500", "0002000000000004007b1194");
    expect_numeric("1.10000000", "0002000000000008000103e8");
    expect_numeric("-0.0001000", "0001ffff400000070001");
    expect_numeric("20000.0002", "0003000100000004000200000002");
    expect_numeric("12345678.12345678", "000400010000000804d2162e04d2162e");
}

/* One to eight decimals, and the smallest and largest digit groups. */
static void
test_numeric_scales(void **state)
{
    (void)state;
    expect_numeric("0.1", "0001ffff0000000103e8");
    expect_numeric("0.12", "0001ffff0000000204b0");
    expect_numeric("0.123", "0001ffff0000000304ce");
    expect_numeric("0.1234", "0001ffff0000000404d2");
    expect_numeric("0.12345", "0002ffff0000000504d21388");
    expect_numeric("0.123456", "0002ffff0000000604d215e0");
    expect_numeric("0.1234567", "0002ffff0000000704d21626");
    expect_numeric("0.12345678", "0002ffff0000000804d2162e");
    expect_numeric("0.0001", "0001ffff000000040001");
    expect_numeric("0.00001", "0001fffe0000000503e8");
    expect_numeric("0.00000000000000000001", "0001fffb000000140001");
    expect_numeric("9999.9999", "0002000000000004270f270f");
    expect_numeric("-9999.9999", "0002000040000004270f270f");
    expect_numeric("99999999999999999999.9999",
                   "0006000400000004270f270f270f270f270f270f");
}

/* The longest text accepted; one byte more is refused. */
static void
test_numeric_longest(void **state)
{
    char text[ETL_COPYBIN_NUMERIC_MAX + 2];
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    memset(text, '9', sizeof(text) - 1);
    text[0] = '-';
    text[500] = '.';
    text[ETL_COPYBIN_NUMERIC_MAX] = '\0';
    etl_buf_init(&b, 1 << 16);
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_numeric(&b, text, &err), 0);
    /* 499 integer digits: 125 groups, weight 124; 499 fraction digits */
    assert_int_equal(b.len, 4 + 8 + 2 * 250);
    assert_memory_equal(b.data + 4, "\x00\xfa\x00\x7c\x40\x00\x01\xf3\x03\xe7", 10);
    etl_buf_free(&b);

    text[ETL_COPYBIN_NUMERIC_MAX] = '9';
    text[ETL_COPYBIN_NUMERIC_MAX + 1] = '\0';
    etl_buf_init(&b, 1 << 16);
    assert_int_equal(etl_copybin_numeric(&b, text, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg,
                        "numeric value \"-9999999999999999999999999999999999999999999999999"
                        "9999999999…\" is too long (more than 1000 characters)");
    assert_int_equal(b.len, 0);
    etl_buf_free(&b);
}

static void
test_numeric_errors(void **state)
{
    static const char *const expected = "expected an optional '-', digits, and '.' and digits";
    static const char *const point = "a decimal point needs digits on both sides";

    (void)state;
    expect_numeric_error("", 0, "invalid numeric value \"\"", "empty text");
    expect_numeric_error("-", 1, "invalid numeric value \"-\"", "no digits");
    expect_numeric_error(".", 1, "invalid numeric value \".\"", point);
    expect_numeric_error(".5", 2, "invalid numeric value \".5\"", point);
    expect_numeric_error("5.", 2, "invalid numeric value \"5.\"", point);
    expect_numeric_error("-.5", 3, "invalid numeric value \"-.5\"", point);
    expect_numeric_error("1.2.3", 5, "invalid numeric value \"1.2.3\"",
                         "more than one decimal point");
    expect_numeric_error("1..2", 4, "invalid numeric value \"1..2\"",
                         "more than one decimal point");
    expect_numeric_error("1e3", 3, "invalid numeric value \"1e3\"",
                         "exponent notation is not accepted");
    expect_numeric_error("1.5E-3", 6, "invalid numeric value \"1.5E-3\"",
                         "exponent notation is not accepted");
    expect_numeric_error("+5", 2, "invalid numeric value \"+5\"",
                         "a sign other than a leading '-' is not accepted");
    expect_numeric_error("--5", 3, "invalid numeric value \"--5\"", "more than one sign");
    expect_numeric_error("5-", 2, "invalid numeric value \"5-\"", "'-' only leads");
    expect_numeric_error(" 5", 2, "invalid numeric value \" 5\"", "blanks are not accepted");
    expect_numeric_error("5 ", 2, "invalid numeric value \"5 \"", "blanks are not accepted");
    expect_numeric_error("1 000", 5, "invalid numeric value \"1 000\"",
                         "blanks are not accepted");
    expect_numeric_error("5\xE3\x80\x80", 4, "invalid numeric value \"5\xE3\x80\x80\"",
                         "blanks are not accepted");
    expect_numeric_error("1,000", 5, "invalid numeric value \"1,000\"", expected);
    expect_numeric_error("NaN", 3, "invalid numeric value \"NaN\"", expected);
    expect_numeric_error("Infinity", 8, "invalid numeric value \"Infinity\"", expected);
    expect_numeric_error("0x10", 4, "invalid numeric value \"0x10\"", expected);
    expect_numeric_error("９", 3, "invalid numeric value \"９\"", expected);
    expect_numeric_error("12\0" "3", 4, "invalid numeric value \"12\"", expected);
    /* a long bad value is quoted cut, at a character boundary */
    expect_numeric_error("1234567890123456789012345678901234567890123456789012345678中x",
                         61, "invalid numeric value "
                         "\"1234567890123456789012345678901234567890123456789012345678…\"",
                         expected);
}

/* NULL text and numeric are SQL NULL, as etl_copy_field's. */
static void
test_null_pointers(void **state)
{
    struct etl_buf b;
    struct etl_err err;
    char got[64];

    (void)state;
    etl_buf_init(&b, 1024);
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_numeric(&b, NULL, &err), 0);
    assert_int_equal(etl_copybin_numeric_n(&b, NULL, 5, &err), 0);
    assert_int_equal(etl_copybin_text_n(&b, NULL, 5, &err), 0);
    hex(&b, 0, got, sizeof(got));
    assert_string_equal(got, "ffffffffffffffffffffffff");
    etl_buf_free(&b);
}

/* A whole two-row file as the server reads it. */
static void
test_file(void **state)
{
    struct etl_buf b;
    struct etl_err err;
    char got[512];

    (void)state;
    etl_buf_init(&b, 1024);
    etl_err_clear(&err);
    assert_int_equal(etl_copybin_header(&b, &err), 0);
    assert_int_equal(etl_copybin_tuple(&b, 3, &err), 0);
    assert_int_equal(etl_copybin_text(&b, "gdp", &err), 0);
    assert_int_equal(etl_copybin_date_ymd(&b, 20220801, &err), 0);
    assert_int_equal(etl_copybin_numeric(&b, "926.3", &err), 0);
    assert_int_equal(etl_copybin_tuple(&b, 3, &err), 0);
    assert_int_equal(etl_copybin_text(&b, "pop", &err), 0);
    assert_int_equal(etl_copybin_null(&b, &err), 0);
    assert_int_equal(etl_copybin_numeric(&b, "-0.5", &err), 0);
    assert_int_equal(etl_copybin_trailer(&b, &err), 0);
    hex(&b, 0, got, sizeof(got));
    assert_string_equal(got,
                        "5047434f50590aff0d0a00" "00000000" "00000000"
                        "0003"
                        "00000003" "676470"
                        "00000004" "00002038"
                        "0000000c" "0002000000000001039e0bb8"
                        "0003"
                        "00000003" "706f70"
                        "ffffffff"
                        "0000000a" "0001ffff400000011388"
                        "ffff");
    etl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_trailer),
        cmocka_unit_test(test_tuple_count),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_text_too_big),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_date_errors),
        cmocka_unit_test(test_numeric_integers),
        cmocka_unit_test(test_numeric_zero),
        cmocka_unit_test(test_numeric_fractions),
        cmocka_unit_test(test_numeric_scales),
        cmocka_unit_test(test_numeric_longest),
        cmocka_unit_test(test_numeric_errors),
        cmocka_unit_test(test_null_pointers),
        cmocka_unit_test(test_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
