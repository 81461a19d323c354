/*
 * test_schedule.c
 *    etl_schedule_*: "@every" intervals (aligned to the epoch, their
 *    errors), cron schedules handed to cron.c, and which part of a schedule
 *    a parse error is about, as data (the expression or the zone).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/schedule.h"

/* Parse must fail with 'msg' about part 'want'. */
static void
expect_error(const char *expr, const char *tz, const char *msg, enum etl_cron_part want)
{
    enum etl_cron_part bad = want == ETL_CRON_EXPR ? ETL_CRON_ZONE : ETL_CRON_EXPR;
    struct etl_err err;

    etl_err_clear(&err);
    assert_null(etl_schedule_parse(expr, tz, &bad, &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, msg);
    assert_int_equal(bad, want);
    /* 'bad' may be NULL */
    etl_err_clear(&err);
    assert_null(etl_schedule_parse(expr, tz, NULL, &err));
    assert_string_equal(err.msg, msg);
}

static void
test_errors(void **state)
{
    (void)state;
    expect_error("@every 0s", NULL, "\"@every\" needs a positive interval, found \"0s\"",
                 ETL_CRON_EXPR);
    expect_error("@every 5", NULL, "\"@every\" interval \"5\" needs a unit: s, m or h",
                 ETL_CRON_EXPR);
    expect_error("@every 9000h", NULL, "\"@every 9000h\" is longer than a year",
                 ETL_CRON_EXPR);
    expect_error("0 0 * *", "UTC", "expected 5 fields, found 4", ETL_CRON_EXPR);
    expect_error("0 0 * * *", "Mars/Base", "unknown time zone \"Mars/Base\"", ETL_CRON_ZONE);
    expect_error("0 0 * *", "Mars/Base", "expected 5 fields, found 4", ETL_CRON_EXPR);
}

static void
test_every(void **state)
{
    enum etl_cron_part bad = ETL_CRON_ZONE;
    struct etl_err err;
    struct etl_schedule *s;
    char out[256];

    (void)state;
    etl_err_clear(&err);
    s = etl_schedule_parse("@every 10m", NULL, &bad, &err);
    assert_non_null(s);
    assert_null(s->cron);
    assert_int_equal(s->every, 600);
    assert_int_equal(etl_schedule_next(s, 0), 600);
    assert_int_equal(etl_schedule_next(s, 599), 600);
    assert_int_equal(etl_schedule_next(s, 600), 1200);
    assert_int_equal(etl_schedule_format_next(s, 1767225600 - 1, 2, out, sizeof(out)), 2);
    assert_string_equal(out, "2026-01-01 00:00:00 UTC\n2026-01-01 00:10:00 UTC\n");
    etl_schedule_free(s);

    s = etl_schedule_parse("30 2 * * *", "Europe/Berlin", NULL, &err);
    assert_non_null(s);
    assert_non_null(s->cron);
    /* 2025-03-30 02:30 does not exist there: 03:00 CEST = 01:00 UTC */
    assert_int_equal(etl_schedule_next(s, 1743211800), 1743296400);
    etl_schedule_free(s);
    etl_schedule_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_every),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
