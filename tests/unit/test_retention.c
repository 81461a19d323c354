/*
 * test_retention.c
 *    Durations ("90d", "1d12h", "off") and the YAML's "retention" mapping:
 *    values, defaults, formatting, and every error with its file:line:col.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/retention.h"

/* Parse 's'; 0 and *v, or -1 and the message in 'err'. */
static int
parse(const char *s, int64_t *v, struct etl_err *err)
{
    etl_err_clear(err);
    return etl_duration_parse(s, v, err);
}

static void
test_units(void **state)
{
    struct etl_err err;
    int64_t v;

    (void)state;
    assert_int_equal(parse("45s", &v, &err), 0);
    assert_int_equal(v, 45);
    assert_int_equal(parse("30min", &v, &err), 0);
    assert_int_equal(v, 1800);
    assert_int_equal(parse("12h", &v, &err), 0);
    assert_int_equal(v, 43200);
    assert_int_equal(parse("90d", &v, &err), 0);
    assert_int_equal(v, 90 * 86400);
    assert_int_equal(parse("2w", &v, &err), 0);
    assert_int_equal(v, 14 * 86400);
    assert_int_equal(parse("1d12h", &v, &err), 0);
    assert_int_equal(v, 86400 + 43200);
    assert_int_equal(parse("1w2d3h4min5s", &v, &err), 0);
    assert_int_equal(v, 9 * 86400 + 3 * 3600 + 4 * 60 + 5);
    assert_int_equal(parse("off", &v, &err), 0);
    assert_int_equal(v, 0);
    /* the longest: 100 years */
    assert_int_equal(parse("36600d", &v, &err), 0);
    assert_int_equal(v, ETL_DURATION_MAX);
}

static void
test_errors(void **state)
{
    struct etl_err err;
    int64_t v = 7;

    (void)state;
    assert_int_equal(parse("90", &v, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "duration \"90\" needs a unit (s, min, h, d or w), e.g. \"90d\"");
    assert_int_equal(v, 0);
    assert_int_equal(parse("90y", &v, &err), -1);
    assert_string_equal(err.msg, "invalid unit 'y' in duration \"90y\" (s, min, h, d or w)");
    /* six months or six minutes: neither is guessed */
    assert_int_equal(parse("6m", &v, &err), -1);
    assert_string_equal(err.msg, "ambiguous unit 'm' in duration \"6m\": write min for minutes; "
                        "for months, days (180d)");
    assert_int_equal(parse("d", &v, &err), -1);
    assert_string_equal(err.msg, "invalid duration \"d\": expected a number at \"d\"");
    assert_int_equal(parse("1d 2h", &v, &err), -1);
    assert_string_equal(err.msg, "invalid duration \"1d 2h\": expected a number at \" 2h\"");
    assert_int_equal(parse("-5d", &v, &err), -1);
    assert_string_equal(err.msg, "invalid duration \"-5d\": expected a number at \"-5d\"");
    assert_int_equal(parse("", &v, &err), -1);
    assert_string_equal(err.msg, "empty duration");
    assert_int_equal(parse("0d", &v, &err), -1);
    assert_string_equal(err.msg, "duration \"0d\" is zero (write \"off\" to keep everything)");
    assert_int_equal(parse("36601d", &v, &err), -1);
    assert_string_equal(err.msg, "duration \"36601d\" is too long (at most 100 years)");
    assert_int_equal(parse("99999999999999999999999d", &v, &err), -1);
    assert_string_equal(err.msg,
                        "duration \"99999999999999999999999d\" is too long (at most 100 years)");
    assert_int_equal(parse("36000d36000d", &v, &err), -1);
    assert_string_equal(err.msg, "duration \"36000d36000d\" is too long (at most 100 years)");
    assert_int_equal(parse("OFF", &v, &err), -1);
    assert_int_equal(v, 0);
}

static void
test_format(void **state)
{
    char out[32];

    (void)state;
    etl_duration_format(90 * 86400, out, sizeof(out));
    assert_string_equal(out, "90d");
    etl_duration_format(14 * 86400, out, sizeof(out));
    assert_string_equal(out, "2w");
    etl_duration_format(36 * 3600, out, sizeof(out));
    assert_string_equal(out, "36h");
    etl_duration_format(61, out, sizeof(out));
    assert_string_equal(out, "61s");
    etl_duration_format(0, out, sizeof(out));
    assert_string_equal(out, "off");
}

/* Configure from a YAML text; the document is freed. */
static int
configure(const char *text, struct etl_retention *r, struct etl_err *err)
{
    struct etl_doc *doc;
    int rc;

    etl_err_clear(err);
    doc = etl_doc_parse("t.yaml", text, strlen(text), err);
    assert_non_null(doc);
    rc = etl_retention_configure(doc->root, r, err);
    etl_doc_free(doc);
    return rc;
}

static void
test_configure(void **state)
{
    struct etl_retention r;
    struct etl_err err;

    (void)state;
    assert_int_equal(configure("spool: x\n", &r, &err), 0);
    assert_int_equal(r.ledger, 90 * 86400);
    assert_int_equal(r.spool, 30 * 86400);
    assert_int_equal(configure("retention: { ledger: 7d }\n", &r, &err), 0);
    assert_int_equal(r.ledger, 7 * 86400);
    assert_int_equal(r.spool, 30 * 86400);
    assert_int_equal(configure("retention:\n  ledger: off\n  spool: 12h\n", &r, &err), 0);
    assert_int_equal(r.ledger, 0);
    assert_int_equal(r.spool, 12 * 3600);

    assert_int_equal(configure("retention:\n  ledger: 90\n", &r, &err), -1);
    assert_string_equal(err.where, "t.yaml:2:11");
    assert_string_equal(err.msg, "retention \"ledger\": duration \"90\" needs a unit "
                        "(s, min, h, d or w), e.g. \"90d\"");
    assert_int_equal(configure("retention: { spool: [1d] }\n", &r, &err), -1);
    assert_string_equal(err.where, "t.yaml:1:21");
    assert_string_equal(err.msg, "\"spool\" must be a string");
    assert_int_equal(configure("retention: { ledgr: 1d }\n", &r, &err), -1);
    assert_string_equal(err.where, "t.yaml:1:14");
    assert_non_null(strstr(err.msg, "ledgr"));
    assert_int_equal(configure("retention: 90d\n", &r, &err), -1);
    assert_string_equal(err.where, "t.yaml:1:12");
    assert_string_equal(err.msg,
                        "\"retention\" must be a mapping, e.g. { ledger: 90d, spool: 30d }");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_configure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
