/*
 * test_err.c
 *    etl_err_nomem: the one out-of-memory error, first error wins.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/err.h"

static void
test_nomem(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_err_nomem(&err), -1);
    assert_int_equal(err.code, ETL_E_NOMEM);
    assert_string_equal(err.msg, "out of memory");
    assert_false(err.retryable);
    assert_string_equal(err.where, "");
    assert_string_equal(etl_err_codename(err.code), "out of memory");
}

static void
test_nomem_keeps_first_error(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    etl_err_set(&err, ETL_E_DATA, "invalid number \"x\"");
    assert_int_equal(etl_err_nomem(&err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "invalid number \"x\"");
    /* and a later error does not replace it */
    etl_err_clear(&err);
    etl_err_nomem(&err);
    etl_err_set(&err, ETL_E_IO, "could not open \"y\"");
    assert_int_equal(err.code, ETL_E_NOMEM);
    assert_string_equal(err.msg, "out of memory");
}

static void
test_nomem_null(void **state)
{
    (void)state;
    assert_int_equal(etl_err_nomem(NULL), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_nomem_keeps_first_error),
        cmocka_unit_test(test_nomem_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
