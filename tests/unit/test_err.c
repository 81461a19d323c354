/*
 * test_err.c
 *    The error struct: the first message, detail and hint win; the SQLSTATE
 *    field; clearing and formatting; etl_err_nomem, the one out-of-memory
 *    error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "etl/err.h"
#include "etl/pg.h"

static void
test_detail_and_hint_first_win(void **state)
{
    struct etl_err err;
    char line[1024];

    (void)state;
    etl_err_clear(&err);
    etl_err_set(&err, ETL_E_DATA, "bad value");
    etl_err_detail(&err, "inner %d", 1);
    etl_err_detail(&err, "outer %d", 2);
    etl_err_hint(&err, "fix the file.");
    etl_err_hint(&err, "something else");
    assert_string_equal(err.detail, "inner 1");
    assert_string_equal(err.hint, "fix the file");
    etl_err_format(&err, line, sizeof(line));
    assert_string_equal(line, "bad value (inner 1); hint: fix the file");
}

static void
test_later_set_keeps_all_fields(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_err_set(&err, ETL_E_DB, "query failed: x"), -1);
    memcpy(err.sqlstate, "23505", 6);
    errno = ENOENT;
    assert_int_equal(etl_err_errno(&err, ETL_E_IO, "could not open"), -1);
    assert_int_equal(etl_err_set(&err, ETL_E_NET, "later"), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_string_equal(err.msg, "query failed: x");
    assert_string_equal(err.sqlstate, "23505");
}

static void
test_clear_empties_sqlstate(void **state)
{
    struct etl_err err;

    (void)state;
    memset(&err, 'x', sizeof(err));
    etl_err_clear(&err);
    assert_int_equal(err.code, ETL_E_NONE);
    assert_string_equal(err.sqlstate, "");
    assert_string_equal(err.detail, "");
    assert_string_equal(err.hint, "");
    assert_int_equal(sizeof(err.sqlstate), 6);
    assert_int_equal(strlen(ETL_SQLSTATE_UNIQUE_VIOLATION), 5);
}

static void
test_errno_message(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    errno = ENOENT;
    etl_err_errno(&err, ETL_E_IO, "could not open \"%s\"", "a");
    assert_string_equal(err.msg, "could not open \"a\": No such file or directory");
    assert_int_equal(errno, ENOENT);
    assert_string_equal(err.sqlstate, "");
}

/* A failed statement on a connection that never opened: no SQLSTATE, retryable. */
static void
test_pg_fail_without_result(void **state)
{
    struct pg_conn db = { 0 };
    struct etl_err err;

    (void)state;
    db.conn = PQconnectdb("host=/nonexistent-ewc-socket-dir connect_timeout=1");
    assert_non_null(db.conn);
    etl_err_clear(&err);
    assert_int_equal(etl_pg_fail(&db, NULL, "query failed", &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_true(err.retryable);
    assert_string_equal(err.sqlstate, "");
    assert_int_equal(strncmp(err.msg, "query failed: ", 14), 0);
    /* already set: untouched */
    err.retryable = false;
    assert_int_equal(etl_pg_fail(&db, NULL, "again", &err), -1);
    assert_false(err.retryable);
    assert_int_equal(strncmp(err.msg, "query failed: ", 14), 0);
    PQfinish(db.conn);
}

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
        cmocka_unit_test(test_detail_and_hint_first_win),
        cmocka_unit_test(test_later_set_keeps_all_fields),
        cmocka_unit_test(test_clear_empties_sqlstate),
        cmocka_unit_test(test_errno_message),
        cmocka_unit_test(test_pg_fail_without_result),
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_nomem_keeps_first_error),
        cmocka_unit_test(test_nomem_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
