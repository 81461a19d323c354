/*
 * test_cron.c
 *    Schedules: next fire times in UTC and in zones with and without DST
 *    (Europe/Berlin, America/New_York, Australia/Sydney, Asia/Shanghai),
 *    through both 2025 changes and, past the 2037 end of "fat" tzdata
 *    tables, through the footer rules; the day-of-month / day-of-week OR
 *    rule, Feb 29, never-firing schedules, names, steps, macros, $TZ,
 *    synthetic TZif files, formatting, and every error with its message.
 *
 *    Expected instants were worked out by hand and checked with GNU date
 *    ("date -u -d 'TZ=\"Europe/Berlin\" 2025-03-30 03:00'"), not with this
 *    code; the test compares them as UTC ISO strings made by gmtime_r.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "etl/cron.h"

/* ---- helpers ---- */

/* "2025-03-30T01:00Z" into seconds, by libc's timegm. */
static int64_t
iso(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%d-%d-%dT%d:%dZ", &y, &mo, &d, &h, &mi) != 5) {
        fail_msg("bad ISO time in test: %s", s);
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm);
}

/* Seconds into "2025-03-30T01:00Z" (":SS" added if not whole), or "never". */
static void
iso_of(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t == -1) {
        snprintf(out, size, "never");
        return;
    }
    gmtime_r(&tt, &tm);
    if (tm.tm_sec != 0) {
        strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        strftime(out, size, "%Y-%m-%dT%H:%MZ", &tm);
    }
}

static struct etl_cron *
parse_ok(const char *expr, const char *tz)
{
    struct etl_err err;
    struct etl_cron *c;

    etl_err_clear(&err);
    c = etl_cron_parse(expr, tz, NULL, &err);
    if (c == NULL) {
        fail_msg("\"%s\" in %s: %s (%s)", expr, tz ? tz : "(local)", err.msg,
                 err.detail);
    }
    return c;
}

#define NEXT_MAX 5

struct next_case {
    const char *expr;
    const char *tz;
    const char *after;
    const char *want[NEXT_MAX];     /* fewer: the rest is "never" */
};

/* The next fire times of each case, each after the one before. */
static void
run_cases(const struct next_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct next_case *k = &cases[i];
        struct etl_cron *c = parse_ok(k->expr, k->tz);
        int64_t t = iso(k->after);

        for (int j = 0; j < NEXT_MAX; j++) {
            const char *want = k->want[j] != NULL ? k->want[j] : "never";
            char got[40];

            t = etl_cron_next(c, t);
            iso_of(t, got, sizeof(got));
            if (strcmp(got, want) != 0) {
                etl_cron_free(c);
                fail_msg("\"%s\" in %s after %s, fire %d: got %s, expected %s",
                         k->expr, k->tz ? k->tz : "(local)", k->after, j + 1,
                         got, want);
            }
            if (t == -1) {
                break;
            }
        }
        etl_cron_free(c);
    }
}

static void
expect_error(const char *expr, const char *tz, enum etl_errcode code,
             const char *msg)
{
    struct etl_err err;
    struct etl_cron *c;

    etl_err_clear(&err);
    c = etl_cron_parse(expr, tz, NULL, &err);
    if (c != NULL) {
        etl_cron_free(c);
        fail_msg("\"%s\" in %s: parsed, expected \"%s\"", expr ? expr : "NULL",
                 tz ? tz : "(local)", msg);
    }
    assert_int_equal(err.code, code);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, "");
}

/* ---- UTC: syntax, steps, names, the day rule, Feb 29 ---- */

static void
test_utc(void **state)
{
    static const struct next_case cases[] = {
        { "*/15 * * * *", "UTC", "2025-01-01T00:00Z",
          { "2025-01-01T00:15Z", "2025-01-01T00:30Z", "2025-01-01T00:45Z",
            "2025-01-01T01:00Z", "2025-01-01T01:15Z" } },
        /* not on a minute: the next whole one */
        { "* * * * *", "UTC", "2025-01-01T00:00Z",
          { "2025-01-01T00:01Z", "2025-01-01T00:02Z", "2025-01-01T00:03Z",
            "2025-01-01T00:04Z", "2025-01-01T00:05Z" } },
        /* end of a year, of a month */
        { "59 23 31 12 *", "UTC", "2025-06-01T00:00Z",
          { "2025-12-31T23:59Z", "2026-12-31T23:59Z", "2027-12-31T23:59Z",
            "2028-12-31T23:59Z", "2029-12-31T23:59Z" } },
        { "0 12 31 * *", "UTC", "2025-01-31T12:00Z",
          { "2025-03-31T12:00Z", "2025-05-31T12:00Z", "2025-07-31T12:00Z",
            "2025-08-31T12:00Z", "2025-10-31T12:00Z" } },
        /* lists and ranges */
        { "0,30 8-9 * * *", "UTC", "2025-05-05T08:10Z",
          { "2025-05-05T08:30Z", "2025-05-05T09:00Z", "2025-05-05T09:30Z",
            "2025-05-06T08:00Z", "2025-05-06T08:30Z" } },
        { "0 0 1,15 * *", "UTC", "2025-01-01T00:00Z",
          { "2025-01-15T00:00Z", "2025-02-01T00:00Z", "2025-02-15T00:00Z",
            "2025-03-01T00:00Z", "2025-03-15T00:00Z" } },
        /* before the epoch */
        { "0 0 1 1 *", "UTC", "1965-06-01T00:00Z",
          { "1966-01-01T00:00Z", "1967-01-01T00:00Z", "1968-01-01T00:00Z",
            "1969-01-01T00:00Z", "1970-01-01T00:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_steps(void **state)
{
    static const struct next_case cases[] = {
        /* a step over a range */
        { "10-50/10 9 * * *", "UTC", "2025-02-03T00:00Z",
          { "2025-02-03T09:10Z", "2025-02-03T09:20Z", "2025-02-03T09:30Z",
            "2025-02-03T09:40Z", "2025-02-03T09:50Z" } },
        /* "5/15" is 5-59/15 */
        { "5/15 * * * *", "UTC", "2025-02-03T10:00Z",
          { "2025-02-03T10:05Z", "2025-02-03T10:20Z", "2025-02-03T10:35Z",
            "2025-02-03T10:50Z", "2025-02-03T11:05Z" } },
        /* steps on hours, days of month, months */
        { "0 */6 * * *", "UTC", "2025-02-03T07:00Z",
          { "2025-02-03T12:00Z", "2025-02-03T18:00Z", "2025-02-04T00:00Z",
            "2025-02-04T06:00Z", "2025-02-04T12:00Z" } },
        { "0 0 */10 * *", "UTC", "2025-02-03T00:00Z",
          { "2025-02-11T00:00Z", "2025-02-21T00:00Z", "2025-03-01T00:00Z",
            "2025-03-11T00:00Z", "2025-03-21T00:00Z" } },
        { "0 0 1 */4 *", "UTC", "2025-02-03T00:00Z",
          { "2025-05-01T00:00Z", "2025-09-01T00:00Z", "2026-01-01T00:00Z",
            "2026-05-01T00:00Z", "2026-09-01T00:00Z" } },
        /* a step as large as the field: only the start */
        { "*/60 * * * *", "UTC", "2025-02-03T07:30Z",
          { "2025-02-03T08:00Z", "2025-02-03T09:00Z", "2025-02-03T10:00Z",
            "2025-02-03T11:00Z", "2025-02-03T12:00Z" } },
        /* a step over a list item next to a plain one */
        { "0 1-10/3,23 * * *", "UTC", "2025-02-03T00:00Z",
          { "2025-02-03T01:00Z", "2025-02-03T04:00Z", "2025-02-03T07:00Z",
            "2025-02-03T10:00Z", "2025-02-03T23:00Z" } },
        /* day-of-week steps over 0-7: 0,2,4,6 (Sun Tue Thu Sat) */
        { "0 6 * * */2", "UTC", "2025-02-03T00:00Z",
          { "2025-02-04T06:00Z", "2025-02-06T06:00Z", "2025-02-08T06:00Z",
            "2025-02-09T06:00Z", "2025-02-11T06:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_names(void **state)
{
    static const struct next_case cases[] = {
        /* any case; 2025-07-01 is a Tuesday */
        { "0 12 * JAN,Jul mon-FRI", "UTC", "2025-06-30T00:00Z",
          { "2025-07-01T12:00Z", "2025-07-02T12:00Z", "2025-07-03T12:00Z",
            "2025-07-04T12:00Z", "2025-07-07T12:00Z" } },
        /* a month range by names, with a step: mar, may */
        { "0 0 1 mar-jun/2 *", "UTC", "2025-01-01T00:00Z",
          { "2025-03-01T00:00Z", "2025-05-01T00:00Z", "2026-03-01T00:00Z",
            "2026-05-01T00:00Z", "2027-03-01T00:00Z" } },
        /* 0, 7 and sun are Sunday; 2025-02-02 is a Sunday */
        { "0 8 * * 7", "UTC", "2025-02-01T00:00Z",
          { "2025-02-02T08:00Z", "2025-02-09T08:00Z", "2025-02-16T08:00Z",
            "2025-02-23T08:00Z", "2025-03-02T08:00Z" } },
        { "0 8 * * 0", "UTC", "2025-02-01T00:00Z",
          { "2025-02-02T08:00Z", "2025-02-09T08:00Z", "2025-02-16T08:00Z",
            "2025-02-23T08:00Z", "2025-03-02T08:00Z" } },
        { "0 8 * * Sun", "UTC", "2025-02-01T00:00Z",
          { "2025-02-02T08:00Z", "2025-02-09T08:00Z", "2025-02-16T08:00Z",
            "2025-02-23T08:00Z", "2025-03-02T08:00Z" } },
        /* a range ending on Sunday: fri-sun, 5-7, 5-0 */
        { "0 8 * * fri-sun", "UTC", "2025-02-03T00:00Z",
          { "2025-02-07T08:00Z", "2025-02-08T08:00Z", "2025-02-09T08:00Z",
            "2025-02-14T08:00Z", "2025-02-15T08:00Z" } },
        { "0 8 * * 5-7", "UTC", "2025-02-03T00:00Z",
          { "2025-02-07T08:00Z", "2025-02-08T08:00Z", "2025-02-09T08:00Z",
            "2025-02-14T08:00Z", "2025-02-15T08:00Z" } },
        { "0 8 * * 5-0", "UTC", "2025-02-03T00:00Z",
          { "2025-02-07T08:00Z", "2025-02-08T08:00Z", "2025-02-09T08:00Z",
            "2025-02-14T08:00Z", "2025-02-15T08:00Z" } },
        { "0 8 * * sat,sun", "UTC", "2025-02-03T00:00Z",
          { "2025-02-08T08:00Z", "2025-02-09T08:00Z", "2025-02-15T08:00Z",
            "2025-02-16T08:00Z", "2025-02-22T08:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_day_rule(void **state)
{
    static const struct next_case cases[] = {
        /* both restricted: the 13th OR a Friday (Jan 2025: Fri 3, 10, 17) */
        { "0 0 13 * 5", "UTC", "2025-01-01T00:00Z",
          { "2025-01-03T00:00Z", "2025-01-10T00:00Z", "2025-01-13T00:00Z",
            "2025-01-17T00:00Z", "2025-01-24T00:00Z" } },
        { "0 0 13 * fri", "UTC", "2025-02-01T00:00Z",
          { "2025-02-07T00:00Z", "2025-02-13T00:00Z", "2025-02-14T00:00Z",
            "2025-02-21T00:00Z", "2025-02-28T00:00Z" } },
        /* only one restricted: that one */
        { "0 0 13 * *", "UTC", "2025-01-01T00:00Z",
          { "2025-01-13T00:00Z", "2025-02-13T00:00Z", "2025-03-13T00:00Z",
            "2025-04-13T00:00Z", "2025-05-13T00:00Z" } },
        { "0 0 * * 5", "UTC", "2025-01-01T00:00Z",
          { "2025-01-03T00:00Z", "2025-01-10T00:00Z", "2025-01-17T00:00Z",
            "2025-01-24T00:00Z", "2025-01-31T00:00Z" } },
        /* Vixie: a field starting with * counts as *, so "*\/2" ANDs: odd
         * days that are Fridays (Jan 3, 17, 31, Feb 7, 21) */
        { "0 0 */2 * 5", "UTC", "2025-01-01T00:00Z",
          { "2025-01-03T00:00Z", "2025-01-17T00:00Z", "2025-01-31T00:00Z",
            "2025-02-07T00:00Z", "2025-02-21T00:00Z" } },
        /* ... and "1-31/2" does not start with *: odd days OR Fridays */
        { "0 0 1-31/2 * 5", "UTC", "2025-01-01T00:00Z",
          { "2025-01-03T00:00Z", "2025-01-05T00:00Z", "2025-01-07T00:00Z",
            "2025-01-09T00:00Z", "2025-01-10T00:00Z" } },
        /* with a month too: June 1 or June Mondays (2025-06-02 is Monday) */
        { "0 0 1 jun mon", "UTC", "2025-01-01T00:00Z",
          { "2025-06-01T00:00Z", "2025-06-02T00:00Z", "2025-06-09T00:00Z",
            "2025-06-16T00:00Z", "2025-06-23T00:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_leap_and_never(void **state)
{
    static const struct next_case cases[] = {
        { "0 0 29 2 *", "UTC", "2025-03-01T00:00Z",
          { "2028-02-29T00:00Z", "2032-02-29T00:00Z", "2036-02-29T00:00Z",
            "2040-02-29T00:00Z", "2044-02-29T00:00Z" } },
        /* 2100 is not a leap year: eight years to wait */
        { "0 0 29 2 *", "UTC", "2096-03-01T00:00Z",
          { "2104-02-29T00:00Z", "2108-02-29T00:00Z", "2112-02-29T00:00Z",
            "2116-02-29T00:00Z", "2120-02-29T00:00Z" } },
        /* Feb 29 or a Monday: Mondays of Feb 2028, then the 29th (Tue) */
        { "0 0 29 2 mon", "UTC", "2028-02-20T00:00Z",
          { "2028-02-21T00:00Z", "2028-02-28T00:00Z", "2028-02-29T00:00Z",
            "2029-02-05T00:00Z", "2029-02-12T00:00Z" } },
        /* never */
        { "0 0 30 2 *", "UTC", "2025-01-01T00:00Z", { NULL } },
        { "0 0 31 4,6,9,11 *", "Europe/Berlin", "2025-01-01T00:00Z", { NULL } },
        { "0 0 31 feb *", "Asia/Shanghai", "2025-01-01T00:00Z", { NULL } },
        /* but a day-of-week rescues an impossible day (OR rule) */
        { "0 0 30 2 sun", "UTC", "2025-01-01T00:00Z",
          { "2025-02-02T00:00Z", "2025-02-09T00:00Z", "2025-02-16T00:00Z",
            "2025-02-23T00:00Z", "2026-02-01T00:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_macros(void **state)
{
    static const struct next_case cases[] = {
        { "@hourly", "UTC", "2025-02-03T07:30Z",
          { "2025-02-03T08:00Z", "2025-02-03T09:00Z", "2025-02-03T10:00Z",
            "2025-02-03T11:00Z", "2025-02-03T12:00Z" } },
        { "@daily", "UTC", "2025-02-03T07:30Z",
          { "2025-02-04T00:00Z", "2025-02-05T00:00Z", "2025-02-06T00:00Z",
            "2025-02-07T00:00Z", "2025-02-08T00:00Z" } },
        { "  @Midnight ", "Asia/Shanghai", "2025-02-03T07:30Z",
          { "2025-02-03T16:00Z", "2025-02-04T16:00Z", "2025-02-05T16:00Z",
            "2025-02-06T16:00Z", "2025-02-07T16:00Z" } },
        /* Sundays 00:00; 2025-02-09 is a Sunday */
        { "@weekly", "UTC", "2025-02-03T07:30Z",
          { "2025-02-09T00:00Z", "2025-02-16T00:00Z", "2025-02-23T00:00Z",
            "2025-03-02T00:00Z", "2025-03-09T00:00Z" } },
        { "@MONTHLY", "UTC", "2025-02-03T07:30Z",
          { "2025-03-01T00:00Z", "2025-04-01T00:00Z", "2025-05-01T00:00Z",
            "2025-06-01T00:00Z", "2025-07-01T00:00Z" } },
        { "@yearly", "UTC", "2025-02-03T07:30Z",
          { "2026-01-01T00:00Z", "2027-01-01T00:00Z", "2028-01-01T00:00Z",
            "2029-01-01T00:00Z", "2030-01-01T00:00Z" } },
        { "@annually", "Europe/Berlin", "2025-02-03T07:30Z",
          { "2025-12-31T23:00Z", "2026-12-31T23:00Z", "2027-12-31T23:00Z",
            "2028-12-31T23:00Z", "2029-12-31T23:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* ---- time zones ---- */

static void
test_shanghai(void **state)
{
    static const struct next_case cases[] = {
        /* 2025-10-01 is a Wednesday; 09:00 CST is 01:00 UTC */
        { "0 9 * * mon-fri", "Asia/Shanghai", "2025-09-30T16:00Z",
          { "2025-10-01T01:00Z", "2025-10-02T01:00Z", "2025-10-03T01:00Z",
            "2025-10-06T01:00Z", "2025-10-07T01:00Z" } },
        /* the local day starts at 16:00 UTC the day before */
        { "30 0 1 * *", "Asia/Shanghai", "2025-01-01T00:00Z",
          { "2025-01-31T16:30Z", "2025-02-28T16:30Z", "2025-03-31T16:30Z",
            "2025-04-30T16:30Z", "2025-05-31T16:30Z" } },
        /* China had DST 1986-1991: 1990-04-15 02:00 CST -> 03:00 CDT */
        { "30 2 * * *", "Asia/Shanghai", "1990-04-13T00:00Z",
          { "1990-04-13T18:30Z", "1990-04-14T18:00Z", "1990-04-15T17:30Z",
            "1990-04-16T17:30Z", "1990-04-17T17:30Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_berlin_spring(void **state)
{
    /* 2025-03-30 01:00 UTC: 02:00 CET becomes 03:00 CEST */
    static const struct next_case cases[] = {
        /* 02:30 does not exist: once, at 03:00 CEST */
        { "30 2 * * *", "Europe/Berlin", "2025-03-28T00:00Z",
          { "2025-03-28T01:30Z", "2025-03-29T01:30Z", "2025-03-30T01:00Z",
            "2025-03-31T00:30Z", "2025-04-01T00:30Z" } },
        /* 02:30 and 03:30: the first at the gap's end, not twice */
        { "30 2,3 * * *", "Europe/Berlin", "2025-03-29T12:00Z",
          { "2025-03-30T01:00Z", "2025-03-30T01:30Z", "2025-03-31T00:30Z",
            "2025-03-31T01:30Z", "2025-04-01T00:30Z" } },
        /* 02:00 and 03:00 both land on 01:00 UTC: once */
        { "0 2,3 * * *", "Europe/Berlin", "2025-03-29T12:00Z",
          { "2025-03-30T01:00Z", "2025-03-31T00:00Z", "2025-03-31T01:00Z",
            "2025-04-01T00:00Z", "2025-04-01T01:00Z" } },
        /* wildcards follow real time: every 15 minutes through the gap */
        { "*/15 * * * *", "Europe/Berlin", "2025-03-30T00:20Z",
          { "2025-03-30T00:30Z", "2025-03-30T00:45Z", "2025-03-30T01:00Z",
            "2025-03-30T01:15Z", "2025-03-30T01:30Z" } },
        { "0 * * * *", "Europe/Berlin", "2025-03-29T23:30Z",
          { "2025-03-30T00:00Z", "2025-03-30T01:00Z", "2025-03-30T02:00Z",
            "2025-03-30T03:00Z", "2025-03-30T04:00Z" } },
        /* a wildcard job inside the skipped hour does not run that day */
        { "*/30 2 * * *", "Europe/Berlin", "2025-03-29T12:00Z",
          { "2025-03-31T00:00Z", "2025-03-31T00:30Z", "2025-04-01T00:00Z",
            "2025-04-01T00:30Z", "2025-04-02T00:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_berlin_autumn(void **state)
{
    /* 2025-10-26 01:00 UTC: 03:00 CEST becomes 02:00 CET */
    static const struct next_case cases[] = {
        /* 02:30 occurs twice: once, at 02:30 CEST = 00:30 UTC */
        { "30 2 * * *", "Europe/Berlin", "2025-10-24T00:00Z",
          { "2025-10-24T00:30Z", "2025-10-25T00:30Z", "2025-10-26T00:30Z",
            "2025-10-27T01:30Z", "2025-10-28T01:30Z" } },
        /* right after the first occurrence: not again at 01:30 UTC */
        { "30 2 * * *", "Europe/Berlin", "2025-10-26T00:30Z",
          { "2025-10-27T01:30Z", "2025-10-28T01:30Z", "2025-10-29T01:30Z",
            "2025-10-30T01:30Z", "2025-10-31T01:30Z" } },
        /* ... nor from inside the repeated hour */
        { "30 2 * * *", "Europe/Berlin", "2025-10-26T01:10Z",
          { "2025-10-27T01:30Z", "2025-10-28T01:30Z", "2025-10-29T01:30Z",
            "2025-10-30T01:30Z", "2025-10-31T01:30Z" } },
        /* 03:00 is after the overlap: once, at 03:00 CET */
        { "0 3 * * *", "Europe/Berlin", "2025-10-25T12:00Z",
          { "2025-10-26T02:00Z", "2025-10-27T02:00Z", "2025-10-28T02:00Z",
            "2025-10-29T02:00Z", "2025-10-30T02:00Z" } },
        /* wildcards: every real 15 minutes, each once */
        { "*/15 * * * *", "Europe/Berlin", "2025-10-26T00:20Z",
          { "2025-10-26T00:30Z", "2025-10-26T00:45Z", "2025-10-26T01:00Z",
            "2025-10-26T01:15Z", "2025-10-26T01:30Z" } },
        { "0 * * * *", "Europe/Berlin", "2025-10-25T23:30Z",
          { "2025-10-26T00:00Z", "2025-10-26T01:00Z", "2025-10-26T02:00Z",
            "2025-10-26T03:00Z", "2025-10-26T04:00Z" } },
        /* a wildcard job inside the repeated hour runs in both */
        { "*/30 2 * * *", "Europe/Berlin", "2025-10-25T12:00Z",
          { "2025-10-26T00:00Z", "2025-10-26T00:30Z", "2025-10-26T01:00Z",
            "2025-10-26T01:30Z", "2025-10-27T01:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_new_york(void **state)
{
    static const struct next_case cases[] = {
        /* 2025-03-09 07:00 UTC: 02:00 EST becomes 03:00 EDT */
        { "30 2 * * *", "America/New_York", "2025-03-07T12:00Z",
          { "2025-03-08T07:30Z", "2025-03-09T07:00Z", "2025-03-10T06:30Z",
            "2025-03-11T06:30Z", "2025-03-12T06:30Z" } },
        /* 2025-11-02 06:00 UTC: 02:00 EDT becomes 01:00 EST */
        { "30 1 * * *", "America/New_York", "2025-10-31T12:00Z",
          { "2025-11-01T05:30Z", "2025-11-02T05:30Z", "2025-11-03T06:30Z",
            "2025-11-04T06:30Z", "2025-11-05T06:30Z" } },
        { "*/20 1 * * *", "America/New_York", "2025-11-02T04:30Z",
          { "2025-11-02T05:00Z", "2025-11-02T05:20Z", "2025-11-02T05:40Z",
            "2025-11-02T06:00Z", "2025-11-02T06:20Z" } },
        /* Sundays only: the gap Sunday fires at 03:00 EDT */
        { "30 2 * * sun", "America/New_York", "2025-03-01T00:00Z",
          { "2025-03-02T07:30Z", "2025-03-09T07:00Z", "2025-03-16T06:30Z",
            "2025-03-23T06:30Z", "2025-03-30T06:30Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_sydney(void **state)
{
    static const struct next_case cases[] = {
        /* 2025-04-05 16:00 UTC: 03:00 AEDT becomes 02:00 AEST */
        { "30 2 * * *", "Australia/Sydney", "2025-04-03T00:00Z",
          { "2025-04-03T15:30Z", "2025-04-04T15:30Z", "2025-04-05T15:30Z",
            "2025-04-06T16:30Z", "2025-04-07T16:30Z" } },
        /* 2025-10-04 16:00 UTC: 02:00 AEST becomes 03:00 AEDT */
        { "30 2 * * *", "Australia/Sydney", "2025-10-02T00:00Z",
          { "2025-10-02T16:30Z", "2025-10-03T16:30Z", "2025-10-04T16:00Z",
            "2025-10-05T15:30Z", "2025-10-06T15:30Z" } },
        /* New Year is summer time there */
        { "0 0 1 1 *", "Australia/Sydney", "2025-06-01T00:00Z",
          { "2025-12-31T13:00Z", "2026-12-31T13:00Z", "2027-12-31T13:00Z",
            "2028-12-31T13:00Z", "2029-12-31T13:00Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* After 2037 the fat tzdata tables end and the footer rule takes over. */
static void
test_footer_rules(void **state)
{
    static const struct next_case cases[] = {
        /* Berlin 2040: 03-25 and 10-28 */
        { "30 2 * * *", "Europe/Berlin", "2040-03-23T12:00Z",
          { "2040-03-24T01:30Z", "2040-03-25T01:00Z", "2040-03-26T00:30Z",
            "2040-03-27T00:30Z", "2040-03-28T00:30Z" } },
        { "30 2 * * *", "Europe/Berlin", "2040-10-27T12:00Z",
          { "2040-10-28T00:30Z", "2040-10-29T01:30Z", "2040-10-30T01:30Z",
            "2040-10-31T01:30Z", "2040-11-01T01:30Z" } },
        /* Sydney 2040: DST ends 04-01, starts 10-07 */
        { "30 2 * * *", "Australia/Sydney", "2040-03-30T00:00Z",
          { "2040-03-30T15:30Z", "2040-03-31T15:30Z", "2040-04-01T16:30Z",
            "2040-04-02T16:30Z", "2040-04-03T16:30Z" } },
        { "30 2 * * *", "Australia/Sydney", "2040-10-05T00:00Z",
          { "2040-10-05T16:30Z", "2040-10-06T16:00Z", "2040-10-07T15:30Z",
            "2040-10-08T15:30Z", "2040-10-09T15:30Z" } },
    };

    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Whole years: fire counts that only come out right through both changes. */
static void
count_year(const char *expr, const char *tz, const char *from, const char *to,
           long want)
{
    struct etl_cron *c = parse_ok(expr, tz);
    int64_t t = iso(from) - 1, end = iso(to);
    long n = 0;

    while ((t = etl_cron_next(c, t)) != -1 && t < end) {
        n++;
    }
    etl_cron_free(c);
    if (n != want) {
        fail_msg("\"%s\" in %s: %ld fires, expected %ld", expr, tz, n, want);
    }
}

static void
test_year_counts(void **state)
{
    (void)state;
    /* local 2025 in Berlin: 2024-12-31 23:00 UTC to 2025-12-31 23:00 UTC,
     * 8760 real hours */
    count_year("*/15 * * * *", "Europe/Berlin", "2024-12-31T23:00Z",
               "2025-12-31T23:00Z", 8760 * 4);
    count_year("0 * * * *", "Europe/Berlin", "2024-12-31T23:00Z",
               "2025-12-31T23:00Z", 8760);
    /* fixed: once a day, gap and overlap days included */
    count_year("30 2 * * *", "Europe/Berlin", "2024-12-31T23:00Z",
               "2025-12-31T23:00Z", 365);
    /* wildcard hour 2: 363 days x 2, none on 03-30, 4 on 10-26 */
    count_year("*/30 2 * * *", "Europe/Berlin", "2024-12-31T23:00Z",
               "2025-12-31T23:00Z", 730);
    count_year("30 2 * * *", "Australia/Sydney", "2024-12-31T13:00Z",
               "2025-12-31T13:00Z", 365);
    count_year("30 1 * * *", "America/New_York", "2025-01-01T05:00Z",
               "2026-01-01T05:00Z", 365);
}

/* ---- $TZ (tz NULL) and zone names ---- */

static void
with_tz(const char *tz)
{
    if (tz == NULL) {
        unsetenv("TZ");
    } else {
        setenv("TZ", tz, 1);
    }
}

static void
test_local_zone(void **state)
{
    static const struct next_case rule_cases[] = {
        /* a POSIX TZ string, southern hemisphere, as Sydney */
        { "30 2 * * *", NULL, "2025-10-02T00:00Z",
          { "2025-10-02T16:30Z", "2025-10-03T16:30Z", "2025-10-04T16:00Z",
            "2025-10-05T15:30Z", "2025-10-06T15:30Z" } },
    };
    static const struct next_case berlin_cases[] = {
        { "30 2 * * *", NULL, "2025-03-28T00:00Z",
          { "2025-03-28T01:30Z", "2025-03-29T01:30Z", "2025-03-30T01:00Z",
            "2025-03-31T00:30Z", "2025-04-01T00:30Z" } },
    };
    static const struct next_case us_cases[] = {
        /* DST without rules: the US ones (03-09, 11-02 in 2025) */
        { "30 2 * * *", NULL, "2025-03-07T12:00Z",
          { "2025-03-08T07:30Z", "2025-03-09T07:00Z", "2025-03-10T06:30Z",
            "2025-03-11T06:30Z", "2025-03-12T06:30Z" } },
        { "30 1 * * *", NULL, "2025-10-31T12:00Z",
          { "2025-11-01T05:30Z", "2025-11-02T05:30Z", "2025-11-03T06:30Z",
            "2025-11-04T06:30Z", "2025-11-05T06:30Z" } },
    };
    static const struct next_case utc_cases[] = {
        { "0 12 * * *", NULL, "2025-03-28T00:00Z",
          { "2025-03-28T12:00Z", "2025-03-29T12:00Z", "2025-03-30T12:00Z",
            "2025-03-31T12:00Z", "2025-04-01T12:00Z" } },
    };
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    struct etl_cron *c;

    (void)state;
    with_tz("AEST-10AEDT,M10.1.0,M4.1.0/3");
    run_cases(rule_cases, 1);
    c = parse_ok("@daily", NULL);
    assert_string_equal(etl_cron_zone(c), "AEST-10AEDT,M10.1.0,M4.1.0/3");
    etl_cron_free(c);

    with_tz(":Europe/Berlin");
    run_cases(berlin_cases, 1);
    c = parse_ok("@daily", NULL);
    assert_string_equal(etl_cron_zone(c), "Europe/Berlin");
    etl_cron_free(c);

    with_tz("/usr/share/zoneinfo/Europe/Berlin");
    run_cases(berlin_cases, 1);

    with_tz("XST5XDT");
    run_cases(us_cases, 2);

    with_tz("");
    run_cases(utc_cases, 1);
    c = parse_ok("@daily", NULL);
    assert_string_equal(etl_cron_zone(c), "UTC");
    etl_cron_free(c);

    with_tz("Mars/Base");
    expect_error("@daily", NULL, ETL_E_CONFIG,
                 "unknown time zone \"Mars/Base\"");
    with_tz("XST5XDT,M13.1.0,M11.1.0");
    expect_error("@daily", NULL, ETL_E_CONFIG,
                 "unknown time zone \"XST5XDT,M13.1.0,M11.1.0\"");
    with_tz("/nonexistent/zone");
    expect_error("@daily", NULL, ETL_E_CONFIG,
                 "unknown time zone \"/nonexistent/zone\"");

    /* unset: /etc/localtime or UTC, whatever this machine has */
    with_tz(NULL);
    c = parse_ok("@daily", NULL);
    assert_true(etl_cron_zone(c)[0] != '\0');
    assert_true(etl_cron_next(c, iso("2025-01-01T00:00Z")) > 0);
    etl_cron_free(c);

    with_tz(saved);
    free(saved);
}

/* A conversion in a schedule's zone leaves TZ and glibc's zone as found. */
static void
test_tz_restored(void **state)
{
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    struct etl_cron *c = parse_ok("30 2 * * *", "Europe/Berlin");
    time_t t0 = 0;
    struct tm tm;
    char out[64];

    (void)state;
    with_tz("IST-5:30");
    tzset();
    assert_int_equal(etl_cron_next(c, iso("2025-03-28T00:00Z")),
                     iso("2025-03-28T01:30Z"));
    assert_true(etl_cron_format_time(c, 0, out, sizeof(out)) > 0);
    assert_string_equal(out, "1970-01-01 01:00 CET (+01:00)");
    assert_string_equal(getenv("TZ"), "IST-5:30");
    assert_non_null(localtime_r(&t0, &tm));
    assert_int_equal(tm.tm_gmtoff, 19800);
    with_tz(NULL);
    tzset();
    assert_int_equal(etl_cron_next(c, iso("2025-03-28T00:00Z")),
                     iso("2025-03-28T01:30Z"));
    assert_null(getenv("TZ"));
    etl_cron_free(c);
    with_tz(saved);
    free(saved);
}

/* POSIX rule forms Jn and n, checked through the formatted local time. */
static void
expect_format(const char *tz, const char *at, const char *want)
{
    struct etl_cron *c = parse_ok("@daily", tz);
    char out[64];
    int n = etl_cron_format_time(c, iso(at), out, sizeof(out));

    etl_cron_free(c);
    assert_string_equal(out, want);
    assert_int_equal(n, (int)strlen(want));
}

static void
test_posix_rules(void **state)
{
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

    (void)state;
    /* J60 is March 1 even in a leap year; DST ends day 300 (0-based,
     * leap day counted: 2024-10-27) at 01:00 local */
    with_tz("<-03>3<-02>,J60/0,300/1");
    expect_format(NULL, "2024-03-01T02:59Z", "2024-02-29 23:59 -03 (-03:00)");
    expect_format(NULL, "2024-03-01T03:00Z", "2024-03-01 01:00 -02 (-02:00)");
    expect_format(NULL, "2024-10-27T02:59Z", "2024-10-27 00:59 -02 (-02:00)");
    expect_format(NULL, "2024-10-27T03:00Z", "2024-10-27 00:00 -03 (-03:00)");
    /* 2025: day 300 is 10-28 */
    expect_format(NULL, "2025-10-28T02:59Z", "2025-10-28 00:59 -02 (-02:00)");
    expect_format(NULL, "2025-10-28T03:00Z", "2025-10-28 00:00 -03 (-03:00)");
    /* explicit DST offset, negative rule time (-1:00 = the day before) */
    with_tz("ABC-2DEF-4,M3.5.0/-1,M10.5.0");
    expect_format(NULL, "2025-03-29T20:59Z", "2025-03-29 22:59 ABC (+02:00)");
    expect_format(NULL, "2025-03-29T21:00Z", "2025-03-30 01:00 DEF (+04:00)");
    /* no DST at all; seconds in the offset */
    with_tz("IST-5:30");
    expect_format(NULL, "2025-06-01T00:00Z", "2025-06-01 05:30 IST (+05:30)");
    with_tz("<+0130>-1:30:15");
    expect_format(NULL, "2025-06-01T00:00Z",
                  "2025-06-01 01:30 +0130 (+01:30:15)");
    /* what is not a POSIX TZ string (nor a zone file) */
    {
        static const char *const bad[] = {
            "<+01", "<+0#>-1", "<ABCDEFGHIJKLMNOP>-1", "ABCDEFGHIJKLMNOPQ-1",
            "AB-1", "ABC", "ABC25", "ABC-1:60", "ABC-1:", "ABC-1:00:60",
            "ABC-1:00:", "ABC-1DE", "ABC-1DEF+", "ABC-1DEF,J0,J1",
            "ABC-1DEF,M3.5,M10.5.0", "ABC-1DEF,M0.5.0,M10.5.0",
            "ABC-1DEF,M3.6.0,M10.5.0", "ABC-1DEF,M3.5.7,M10.5.0",
            "ABC-1DEF,366,1", "ABC-1DEF,M3.5.0/168,M10.5.0",
            "ABC-1DEF,M3.5.0,M10.5.0x", "ABC-1DEF,M3.5.0", "ABC-1DEF;",
            "ABC-1x",
        };
        char want[128];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            with_tz(bad[i]);
            snprintf(want, sizeof(want), "unknown time zone \"%s\"", bad[i]);
            expect_error("@daily", NULL, ETL_E_CONFIG, want);
        }
    }
    with_tz(saved);
    free(saved);
}

static void
test_format(void **state)
{
    struct etl_cron *c;
    char out[512];
    int n;

    (void)state;
    expect_format("Europe/Berlin", "2025-03-30T01:00Z",
                  "2025-03-30 03:00 CEST (+02:00)");
    expect_format("Europe/Berlin", "2025-10-26T01:30Z",
                  "2025-10-26 02:30 CET (+01:00)");
    expect_format("America/New_York", "2025-07-04T16:00Z",
                  "2025-07-04 12:00 EDT (-04:00)");
    expect_format("Asia/Kolkata", "2025-01-01T00:00Z",
                  "2025-01-01 05:30 IST (+05:30)");
    expect_format("Asia/Shanghai", "2025-01-01T00:00Z",
                  "2025-01-01 08:00 CST (+08:00)");
    /* local mean time, with seconds in the offset */
    c = parse_ok("@daily", "Europe/Berlin");
    n = etl_cron_format_time(c, -2500000000LL, out, sizeof(out));
    assert_string_equal(out, "1890-10-11 20:26 LMT (+00:53:28)");
    assert_int_equal(n, 32);
    /* truncation */
    n = etl_cron_format_time(c, iso("2025-03-30T01:00Z"), out, 11);
    assert_string_equal(out, "2025-03-30");
    assert_int_equal(n, 30);
    n = etl_cron_format_time(c, INT64_MAX, out, sizeof(out));
    assert_string_equal(out, "(out of range)");
    etl_cron_free(c);

    /* the next five, as "ewc-etl check" prints them */
    c = parse_ok("30 2 * * *", "Europe/Berlin");
    n = etl_cron_format_next(c, iso("2025-03-28T00:00Z"), 5, out, sizeof(out));
    assert_int_equal(n, 5);
    assert_string_equal(out,
                        "2025-03-28 02:30 CET (+01:00)\n"
                        "2025-03-29 02:30 CET (+01:00)\n"
                        "2025-03-30 03:00 CEST (+02:00)\n"
                        "2025-03-31 02:30 CEST (+02:00)\n"
                        "2025-04-01 02:30 CEST (+02:00)\n");
    /* a line that does not fit is left out: the CET lines are 30 bytes
     * with their newline, the CEST ones 31, and a NUL ends it all */
    n = etl_cron_format_next(c, iso("2025-03-28T00:00Z"), 5, out, 91);
    assert_int_equal(n, 2);
    assert_string_equal(out, "2025-03-28 02:30 CET (+01:00)\n"
                             "2025-03-29 02:30 CET (+01:00)\n");
    n = etl_cron_format_next(c, iso("2025-03-28T00:00Z"), 5, out, 92);
    assert_int_equal(n, 3);
    n = etl_cron_format_next(c, iso("2025-03-28T00:00Z"), 5, out, 60);
    assert_int_equal(n, 1);
    assert_string_equal(out, "2025-03-28 02:30 CET (+01:00)\n");
    n = etl_cron_format_next(c, iso("2025-03-28T00:00Z"), 0, out, sizeof(out));
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
    n = etl_cron_format_next(c, iso("2025-03-28T00:00Z"), 5, out, 0);
    assert_int_equal(n, 0);
    etl_cron_free(c);

    /* a schedule that never fires */
    c = parse_ok("0 0 30 2 *", "UTC");
    strcpy(out, "x");
    n = etl_cron_format_next(c, iso("2025-03-28T00:00Z"), 5, out, sizeof(out));
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
    etl_cron_free(c);
}

static void
test_limits(void **state)
{
    struct etl_cron *c = parse_ok("* * * * *", "UTC");

    (void)state;
    assert_int_equal(etl_cron_next(c, ETL_CRON_MIN_TIME - 1), -1);
    assert_int_equal(etl_cron_next(c, ETL_CRON_MAX_TIME + 1), -1);
    assert_int_equal(etl_cron_next(c, INT64_MIN), -1);
    assert_int_equal(etl_cron_next(c, INT64_MAX), -1);
    /* the ends themselves work */
    assert_int_equal(etl_cron_next(c, ETL_CRON_MIN_TIME),
                     ETL_CRON_MIN_TIME + 60);
    assert_int_equal(etl_cron_next(c, ETL_CRON_MAX_TIME),
                     ETL_CRON_MAX_TIME + 1);
    assert_int_equal(etl_cron_next(NULL, 0), -1);
    etl_cron_free(c);
    etl_cron_free(NULL);
    c = parse_ok("@daily", "UTC");
    assert_string_equal(etl_cron_zone(c), "UTC");
    etl_cron_free(c);
}

/* ---- errors ---- */

static void
test_syntax_errors(void **state)
{
    static const struct {
        const char *expr, *msg;
    } cases[] = {
        { "", "expected 5 fields, found 0" },
        { "   ", "expected 5 fields, found 0" },
        { "* * * *", "expected 5 fields, found 4" },
        { "* * * * * *", "expected 5 fields, found 6" },
        { "61 * * * *", "minute field: 61 is out of range (0-59)" },
        { "* 24 * * *", "hour field: 24 is out of range (0-23)" },
        { "* * 0 * *", "day-of-month field: 0 is out of range (1-31)" },
        { "* * 32 * *", "day-of-month field: 32 is out of range (1-31)" },
        { "* * * 0 *", "month field: 0 is out of range (1-12)" },
        { "* * * 13 *", "month field: 13 is out of range (1-12)" },
        { "* * * * 8", "day-of-week field: 8 is out of range (0-7)" },
        { "99999999999 * * * *",
          "minute field: 99999999999 is out of range (0-59)" },
        { "0-60 * * * *", "minute field: 60 is out of range (0-59)" },
        { "1x * * * *", "minute field: invalid value \"1x\"" },
        { "1- * * * *", "minute field: invalid value \"1-\"" },
        { "-5 * * * *", "minute field: invalid value \"-5\"" },
        { "*-5 * * * *", "minute field: invalid value \"*\"" },
        { "1-5-7 * * * *", "minute field: invalid value \"5-7\"" },
        { "* mon * * *", "hour field: invalid value \"mon\"" },
        { "* * * * ?", "day-of-week field: invalid value \"?\"" },
        { "1,,2 * * * *", "minute field: empty item in \"1,,2\"" },
        { "* 1, * * *", "hour field: empty item in \"1,\"" },
        { "* * ,5 * *", "day-of-month field: empty item in \",5\"" },
        { "* 20-5 * * *", "hour field: range 20-5 ends before it starts" },
        { "* * * dec-jan *",
          "month field: range dec-jan ends before it starts" },
        { "* * * * sat-mon",
          "day-of-week field: range sat-mon ends before it starts" },
        { "*/0 * * * *", "minute field: invalid step \"0\"" },
        { "*/ * * * *", "minute field: invalid step \"\"" },
        { "*/x * * * *", "minute field: invalid step \"x\"" },
        { "*/1/2 * * * *", "minute field: invalid step \"1/2\"" },
        { "*/61 * * * *", "minute field: step 61 is out of range (1-60)" },
        { "* * * */13 *", "month field: step 13 is out of range (1-12)" },
        { "* * * jun. *", "unknown month name \"jun.\"" },
        { "* * * june *", "unknown month name \"june\"" },
        { "* * * jan-foo *", "unknown month name \"foo\"" },
        { "* * * * fr", "unknown day-of-week name \"fr\"" },
        { "* * * * monday", "unknown day-of-week name \"monday\"" },
        { "@often", "unknown schedule macro \"@often\"" },
        { "@reboot", "unknown schedule macro \"@reboot\"" },
        { "@", "unknown schedule macro \"@\"" },
        { "@daily x", "unexpected \"x\" after @daily" },
        { "@weekly 0 0 * * *", "unexpected \"0\" after @weekly" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_error(cases[i].expr, "UTC", ETL_E_CONFIG, cases[i].msg);
    }
    expect_error(NULL, "UTC", ETL_E_CONFIG, "expected 5 fields, found 0");
    /* the expression is checked before the zone */
    expect_error("61 * * * *", "Mars/Base", ETL_E_CONFIG,
                 "minute field: 61 is out of range (0-59)");
}

static void
test_zone_errors(void **state)
{
    struct etl_err err;

    (void)state;
    expect_error("@daily", "Mars/Base", ETL_E_CONFIG,
                 "unknown time zone \"Mars/Base\"");
    etl_err_clear(&err);
    assert_null(etl_cron_parse("@daily", "Mars/Base", NULL, &err));
    assert_string_equal(err.detail, "could not open \"/usr/share/zoneinfo/"
                        "Mars/Base\": No such file or directory");

    expect_error("@daily", "", ETL_E_CONFIG, "unknown time zone \"\"");
    expect_error("@daily", "../../etc/passwd", ETL_E_CONFIG,
                 "unknown time zone \"../../etc/passwd\"");
    expect_error("@daily", "Europe/../UTC", ETL_E_CONFIG,
                 "unknown time zone \"Europe/../UTC\"");
    expect_error("@daily", "/usr/share/zoneinfo/UTC", ETL_E_CONFIG,
                 "unknown time zone \"/usr/share/zoneinfo/UTC\"");
    etl_err_clear(&err);
    assert_null(etl_cron_parse("@daily", "/usr/share/zoneinfo/UTC", NULL, &err));
    assert_string_equal(err.detail, "a zone is a name under the zone "
                        "directory, such as \"Asia/Shanghai\"");

    /* a directory */
    etl_err_clear(&err);
    assert_null(etl_cron_parse("@daily", "Europe", NULL, &err));
    assert_string_equal(err.msg, "unknown time zone \"Europe\"");
    assert_string_equal(err.detail,
                        "\"/usr/share/zoneinfo/Europe\" is not a regular file");
    /* a file there that is no zone */
    expect_error("@daily", "zone1970.tab", ETL_E_CONFIG,
                 "invalid time zone file \"/usr/share/zoneinfo/zone1970.tab\": "
                 "not a TZif file");
}

/* Which part failed, as data: the expression is checked first. */
static void
expect_part(const char *expr, const char *tz, enum etl_cron_part want)
{
    enum etl_cron_part bad = want == ETL_CRON_EXPR ? ETL_CRON_ZONE : ETL_CRON_EXPR;
    struct etl_err err;

    etl_err_clear(&err);
    assert_null(etl_cron_parse(expr, tz, &bad, &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    if (bad != want) {
        fail_msg("\"%s\" in %s: part %d, expected %d (%s)", expr, tz ? tz : "(local)",
                 (int)bad, (int)want, err.msg);
    }
}

static void
test_error_part(void **state)
{
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

    (void)state;
    expect_part("61 * * * *", "UTC", ETL_CRON_EXPR);
    expect_part("@often", "UTC", ETL_CRON_EXPR);
    expect_part(NULL, "UTC", ETL_CRON_EXPR);
    expect_part("61 * * * *", "Mars/Base", ETL_CRON_EXPR);
    expect_part("@daily", "Mars/Base", ETL_CRON_ZONE);
    expect_part("@daily", "../etc/passwd", ETL_CRON_ZONE);
    expect_part("@daily", "zone1970.tab", ETL_CRON_ZONE);
    with_tz("ABC-1DEF;");
    expect_part("@daily", NULL, ETL_CRON_ZONE);
    expect_part("* * *", NULL, ETL_CRON_EXPR);
    with_tz(saved);
    free(saved);
}

/* ---- synthetic TZif files under $TZDIR ---- */

static char tzdir[64];

struct tzb {
    unsigned char b[8192];
    size_t n;
};

static void
put(struct tzb *z, const void *p, size_t n)
{
    assert_true(z->n + n <= sizeof(z->b));
    memcpy(z->b + z->n, p, n);
    z->n += n;
}

static void
put32(struct tzb *z, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v };

    put(z, b, 4);
}

static void
put64(struct tzb *z, int64_t v)
{
    put32(z, (uint32_t)((uint64_t)v >> 32));
    put32(z, (uint32_t)v);
}

/* A zone for the builder; 'chars' holds NULs, so its length is given. */
struct tzspec {
    char version;                   /* 0, '2', '3' */
    uint32_t leap;                  /* leap second records, all zero */
    int ntrans;
    int64_t trans[4];
    uint8_t idx[4];
    int ntypes;
    int32_t utoff[4];
    uint8_t abbr[4];
    const char *chars;
    size_t nchars;
    const char *footer;             /* NULL: none written at all */
};

static void
tz_block(struct tzb *z, const struct tzspec *s, int timesize)
{
    static const unsigned char pad[15];

    put(z, "TZif", 4);
    put(z, &s->version, 1);
    put(z, pad, 15);
    put32(z, 0);
    put32(z, 0);
    put32(z, s->leap);
    put32(z, (uint32_t)s->ntrans);
    put32(z, (uint32_t)s->ntypes);
    put32(z, (uint32_t)s->nchars);
    for (int i = 0; i < s->ntrans; i++) {
        if (timesize == 8) {
            put64(z, s->trans[i]);
        } else {
            put32(z, (uint32_t)(int32_t)s->trans[i]);
        }
    }
    put(z, s->idx, (size_t)s->ntrans);
    for (int i = 0; i < s->ntypes; i++) {
        unsigned char rest[2] = { 0, s->abbr[i] };

        put32(z, (uint32_t)s->utoff[i]);
        put(z, rest, 2);
    }
    put(z, s->chars, s->nchars);
    for (uint32_t i = 0; i < s->leap * (uint32_t)(timesize + 4); i++) {
        put(z, "", 1);
    }
}

/* Write $TZDIR/name: the spec, cut to 'cut' bytes if not 0. */
static void
tz_write(const char *name, const struct tzspec *s, size_t cut)
{
    struct tzb z;
    char path[256];
    FILE *f;

    z.n = 0;
    tz_block(&z, s, 4);
    if (s->version != 0) {
        tz_block(&z, s, 8);
        if (s->footer != NULL) {
            put(&z, "\n", 1);
            put(&z, s->footer, strlen(s->footer));
            put(&z, "\n", 1);
        }
    }
    snprintf(path, sizeof(path), "%s/%s", tzdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(z.b, 1, cut > 0 && cut < z.n ? cut : z.n, f),
                     cut > 0 && cut < z.n ? cut : z.n);
    fclose(f);
}

static const struct tzspec good = {
    .version = '2', .ntrans = 2, .trans = { 0, 1000000000 },
    .idx = { 1, 0 }, .ntypes = 2, .utoff = { 3600, 7200 }, .abbr = { 0, 4 },
    .chars = "AAA\0BBB", .nchars = 8, .footer = ""
};

static int
tzdir_setup(void **state)
{
    (void)state;
    snprintf(tzdir, sizeof(tzdir), "/tmp/test_cron.XXXXXX");
    if (mkdtemp(tzdir) == NULL) {
        return -1;
    }
    setenv("TZDIR", tzdir, 1);
    return 0;
}

static int
tzdir_teardown(void **state)
{
    static const char *const names[] = {
        "Good", "V1", "Rule", "Magic", "Short", "Big", "Empty", "Cut",
        "Data1", "Data2", "Magic2", "Leap", "NoTypes", "Types", "NoChars",
        "Index", "Order", "V1Order", "Offset", "OffsetW", "Abbr", "NoFooter",
        "Unended", "Trailing", "BadRule", "NulRule", NULL
    };
    char path[256];

    (void)state;
    for (int i = 0; names[i] != NULL; i++) {
        snprintf(path, sizeof(path), "%s/%s", tzdir, names[i]);
        unlink(path);
    }
    rmdir(tzdir);
    unsetenv("TZDIR");
    return 0;
}

/* Write $TZDIR/name as raw bytes. */
static void
tz_write_raw(const char *name, const void *b, size_t n)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tzdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/*
 * Every way the structure of a TZif file can be wrong that glibc would
 * take for UTC without a word: counts that do not fit the file, tables
 * that point outside themselves, times out of order, absurd offsets,
 * a missing, unended or bad footer.
 */
static void
tz_write_bad(void)
{
    struct tzspec s;
    struct tzb z;

    /* "Good" is 74 bytes of version 1 block, 82 of version 2, "\n\n" */
    tz_write("Cut", &good, 100);            /* in the second header */
    tz_write("Data1", &good, 60);           /* in the first data block */
    tz_write("Data2", &good, 130);          /* in the second data block */
    z.n = 0;
    tz_block(&z, &good, 4);
    put(&z, "TZxx", 4);
    for (int i = 0; i < 40; i++) {
        put(&z, "", 1);
    }
    tz_write_raw("Magic2", z.b, z.n);
    s = good;
    s.leap = 1;
    tz_write("Leap", &s, 0);
    s = good;
    s.ntrans = 0;
    s.ntypes = 0;
    tz_write("NoTypes", &s, 0);
    /* 257 types: one more than a byte of index can reach */
    z.n = 0;
    put(&z, "TZif", 4);
    for (int i = 0; i < 15 + 1 + 12 + 4; i++) {
        put(&z, "", 1);
    }
    put32(&z, 257);
    put32(&z, 1);
    for (int i = 0; i < 257 * 6 + 1; i++) {
        put(&z, "", 1);
    }
    tz_write_raw("Types", z.b, z.n);
    s = good;
    s.nchars = 0;
    tz_write("NoChars", &s, 0);
    s = good;
    s.idx[1] = 2;
    tz_write("Index", &s, 0);
    s = good;
    s.trans[1] = -5;
    tz_write("Order", &s, 0);
    s.version = 0;
    s.footer = NULL;
    tz_write("V1Order", &s, 0);
    s = good;
    s.utoff[1] = 26 * 3600 + 1;
    tz_write("Offset", &s, 0);
    s = good;
    s.utoff[0] = -26 * 3600 - 1;
    tz_write("OffsetW", &s, 0);
    s = good;
    s.abbr[1] = 8;
    tz_write("Abbr", &s, 0);
    s = good;
    s.footer = NULL;
    tz_write("NoFooter", &s, 0);
    tz_write("Unended", &good, 157);        /* the last "\n" cut */
    z.n = 0;
    tz_block(&z, &good, 4);
    tz_block(&z, &good, 8);
    put(&z, "\nUTC0\nUTC0\n", 11);
    tz_write_raw("Trailing", z.b, z.n);
    s = good;
    s.footer = "CET-1CEST,M3.5.0";
    tz_write("BadRule", &s, 0);
    z.n = 0;
    tz_block(&z, &good, 4);
    tz_block(&z, &good, 8);
    put(&z, "\nUTC0\0x\n", 8);
    tz_write_raw("NulRule", z.b, z.n);
}

/* The last error's detail names zone 'name' (the one 'tz' loaded). */
static void
expect_zone_detail(const char *tz, const char *name)
{
    struct etl_err err;
    char want[512];

    etl_err_clear(&err);
    assert_null(etl_cron_parse("@daily", tz, NULL, &err));
    snprintf(want, sizeof(want), "the file of time zone \"%s\"", name);
    assert_string_equal(err.detail, want);
}

static void
test_tzif_files(void **state)
{
    struct tzspec s;
    struct etl_err err;
    char path[256], want[512];
    FILE *f;

    (void)state;
    /* before the first transition: type 0; after the last and an empty
     * footer: the last one's type */
    tz_write("Good", &good, 0);
    expect_format("Good", "1969-12-31T00:00Z", "1969-12-31 01:00 AAA (+01:00)");
    expect_format("Good", "1970-01-01T00:00Z", "1970-01-01 02:00 BBB (+02:00)");
    expect_format("Good", "2025-01-01T00:00Z", "2025-01-01 01:00 AAA (+01:00)");

    /* a version 1 file: 32-bit times, no footer */
    s = good;
    s.version = 0;
    s.footer = NULL;
    tz_write("V1", &s, 0);
    expect_format("V1", "1970-01-01T00:00Z", "1970-01-01 02:00 BBB (+02:00)");
    expect_format("V1", "2025-01-01T00:00Z", "2025-01-01 01:00 AAA (+01:00)");

    /* one transition, then a footer rule: Berlin's, with <...> names
     * (glibc applies the footer only after a file's last transition) */
    s = good;
    s.ntrans = 1;
    s.idx[0] = 0;
    s.ntypes = 1;
    s.footer = "<+01>-1<+02>,M3.5.0,M10.5.0/3";
    tz_write("Rule", &s, 0);
    {
        static const struct next_case cases[] = {
            { "30 2 * * *", "Rule", "2025-03-28T00:00Z",
              { "2025-03-28T01:30Z", "2025-03-29T01:30Z", "2025-03-30T01:00Z",
                "2025-03-31T00:30Z", "2025-04-01T00:30Z" } },
            { "30 2 * * *", "Rule", "2025-10-24T00:00Z",
              { "2025-10-24T00:30Z", "2025-10-25T00:30Z", "2025-10-26T00:30Z",
                "2025-10-27T01:30Z", "2025-10-28T01:30Z" } },
        };

        run_cases(cases, 2);
    }
    expect_format("Rule", "2025-03-30T01:00Z", "2025-03-30 03:00 +02 (+02:00)");

    /* what the parser checks itself: glibc would take any of these for
     * UTC without a word (the rest of the file is glibc's to read) */
    f = fopen((snprintf(path, sizeof(path), "%s/Magic", tzdir), path), "wb");
    assert_non_null(f);
    fputs("TZxx this is not a zone file, but long enough to have a header", f);
    fclose(f);
    f = fopen((snprintf(path, sizeof(path), "%s/Empty", tzdir), path), "wb");
    assert_non_null(f);
    fclose(f);
    tz_write("Short", &good, 30);
    tz_write_bad();
    {
        static const struct {
            const char *name, *why;
        } bad[] = {
            { "Magic", "not a TZif file" },
            { "Empty", "truncated" },
            { "Short", "truncated" },
            { "Cut", "truncated" },
            { "Data1", "truncated" },
            { "Data2", "truncated" },
            { "Magic2", "not a TZif file" },
            { "Leap", "leap seconds are not supported" },
            { "NoTypes", "bad local time type count" },
            { "Types", "bad local time type count" },
            { "NoChars", "bad abbreviation count" },
            { "Index", "bad local time type index" },
            { "Order", "transition times out of order" },
            { "V1Order", "transition times out of order" },
            { "Offset", "UTC offset out of range" },
            { "OffsetW", "UTC offset out of range" },
            { "Abbr", "bad abbreviation index" },
            { "NoFooter", "bad footer" },
            { "Unended", "bad footer" },
            { "Trailing", "bad footer" },
            { "BadRule", "bad TZ string \"CET-1CEST,M3.5.0\"" },
            { "NulRule", "bad footer" },
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(want, sizeof(want), "invalid time zone file \"%s/%s\": %s",
                     tzdir, bad[i].name, bad[i].why);
            expect_error("@daily", bad[i].name, ETL_E_CONFIG, want);
            expect_zone_detail(bad[i].name, bad[i].name);
        }
    }

    /* too large to be a zone */
    f = fopen((snprintf(path, sizeof(path), "%s/Big", tzdir), path), "wb");
    assert_non_null(f);
    for (int i = 0; i < 300; i++) {
        static const char kb[1024];

        assert_int_equal(fwrite(kb, 1, sizeof(kb), f), sizeof(kb));
    }
    fclose(f);
    etl_err_clear(&err);
    assert_null(etl_cron_parse("@daily", "Big", NULL, &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "unknown time zone \"Big\"");
    snprintf(want, sizeof(want), "\"%s/Big\" is too large for a zone file",
             tzdir);
    assert_string_equal(err.detail, want);

    /* $TZ names a zone under $TZDIR too */
    {
        char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

        with_tz("Good");
        expect_format(NULL, "1970-01-01T00:00Z",
                      "1970-01-01 02:00 BBB (+02:00)");
        with_tz("Magic");
        snprintf(want, sizeof(want),
                 "invalid time zone file \"%s/Magic\": not a TZif file",
                 tzdir);
        expect_error("@daily", NULL, ETL_E_CONFIG, want);
        with_tz("Offset");
        snprintf(want, sizeof(want),
                 "invalid time zone file \"%s/Offset\": "
                 "UTC offset out of range", tzdir);
        expect_error("@daily", NULL, ETL_E_CONFIG, want);
        expect_zone_detail(NULL, "Offset");
        /* a path: the zone is called by it */
        snprintf(path, sizeof(path), "%s/Order", tzdir);
        with_tz(path);
        snprintf(want, sizeof(want), "invalid time zone file \"%s\": "
                 "transition times out of order", path);
        expect_error("@daily", NULL, ETL_E_CONFIG, want);
        expect_zone_detail(NULL, path);
        with_tz(saved);
        free(saved);
    }
}

static int
group_setup(void **state)
{
    (void)state;
    unsetenv("TZDIR");
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_day_rule),
        cmocka_unit_test(test_leap_and_never),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_shanghai),
        cmocka_unit_test(test_berlin_spring),
        cmocka_unit_test(test_berlin_autumn),
        cmocka_unit_test(test_new_york),
        cmocka_unit_test(test_sydney),
        cmocka_unit_test(test_footer_rules),
        cmocka_unit_test(test_year_counts),
        cmocka_unit_test(test_local_zone),
        cmocka_unit_test(test_tz_restored),
        cmocka_unit_test(test_posix_rules),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_zone_errors),
        cmocka_unit_test(test_error_part),
        cmocka_unit_test_setup_teardown(test_tzif_files, tzdir_setup,
                                        tzdir_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
