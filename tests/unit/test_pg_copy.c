/*
 * test_pg_copy.c
 *    The COPY text-format encoder, and the error struct it reports through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/buf.h"
#include "etl/pg.h"

static void
test_escapes(void **state)
{
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    etl_buf_init(&b, 1024);
    assert_int_equal(etl_copy_field(&b, "a\tb\\c\nd\re", false, &err), 0);
    assert_int_equal(etl_copy_field(&b, NULL, false, &err), 0);
    assert_int_equal(etl_copy_field(&b, "", false, &err), 0);
    assert_int_equal(etl_copy_field(&b, "广西 \\N", true, &err), 0);
    assert_string_equal(b.data, "a\\tb\\\\c\\nd\\re\t\\N\t\t广西 \\\\N\n");
    etl_buf_free(&b);
}

static void
test_field_n_stops_at_length(void **state)
{
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    etl_buf_init(&b, 64);
    assert_int_equal(etl_copy_field_n(&b, "abc\tdef", 4, true, &err), 0);
    assert_string_equal(b.data, "abc\\t\n");
    etl_buf_free(&b);
}

static void
test_buffer_limit(void **state)
{
    struct etl_buf b;
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    etl_buf_init(&b, 8);
    assert_int_equal(etl_copy_field(&b, "12345678", false, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "text too long (more than 8 bytes)");
    etl_buf_free(&b);
}

static void
test_err_first_wins_and_context(void **state)
{
    struct etl_err err;
    char line[1024];

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_err_set(&err, ETL_E_DATA, "invalid number \"%s\".", "x"), -1);
    etl_err_set(&err, ETL_E_DB, "later");
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "invalid number \"x\"");
    etl_err_context(&err, "line %d", 812);
    etl_err_context(&err, "file %s", "3f2a9c1e");
    assert_string_equal(err.where, "file 3f2a9c1e, line 812");
    etl_err_hint(&err, "check the value");
    etl_err_format(&err, line, sizeof(line));
    assert_string_equal(line, "file 3f2a9c1e, line 812: invalid number \"x\"; hint: check the value");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_field_n_stops_at_length),
        cmocka_unit_test(test_buffer_limit),
        cmocka_unit_test(test_err_first_wins_and_context),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
