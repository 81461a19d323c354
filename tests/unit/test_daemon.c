/*
 * test_daemon.c
 *    The daemon without a database: the catch-up computation
 *    (etl_daemon_missed) for each policy, the max, no earlier run and
 *    daylight-saving changes; the clock-start parser; and the scheduler
 *    loop driven by a fake clock, with the ledger and the runner replaced by
 *    hooks that record what the daemon asks for.
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

#include "etl/daemon.h"
#include "etl/runner.h"
#include "etl/schedule.h"

#define A 1767225600LL          /* 2026-01-01T00:00:00Z, a whole hour */
#define H 3600LL

/* "2025-03-30T01:00Z" into seconds. */
static int64_t
iso(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%d-%d-%dT%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min) != 5) {
        fail_msg("bad ISO time in test: %s", s);
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static struct etl_schedule *
sched_ok(const char *expr, const char *tz)
{
    struct etl_err err;
    struct etl_schedule *s;

    etl_err_clear(&err);
    s = etl_schedule_parse(expr, tz, NULL, &err);
    if (s == NULL) {
        fail_msg("\"%s\": %s", expr, err.msg);
    }
    return s;
}

/* ---- etl_daemon_missed ---- */

static void
test_missed_policies(void **state)
{
    struct etl_schedule *s = sched_ok("@every 1h", NULL);
    int64_t out[10];

    (void)state;
    /* last served A-5h, now A+30: A-4h .. A were missed */
    assert_int_equal(etl_daemon_missed(s, A - 5 * H, A + 30, ETL_CATCHUP_NONE, 10, out), 0);
    assert_int_equal(etl_daemon_missed(s, A - 5 * H, A + 30, ETL_CATCHUP_LATEST, 10, out), 1);
    assert_int_equal(out[0], A);
    assert_int_equal(etl_daemon_missed(s, A - 5 * H, A + 30, ETL_CATCHUP_ALL, 3, out), 3);
    assert_int_equal(out[0], A - 2 * H);
    assert_int_equal(out[1], A - H);
    assert_int_equal(out[2], A);
    /* a max above the count: all of them, oldest first */
    assert_int_equal(etl_daemon_missed(s, A - 5 * H, A + 30, ETL_CATCHUP_ALL, 10, out), 5);
    assert_int_equal(out[0], A - 4 * H);
    assert_int_equal(out[4], A);
    /* max below 1 counts as 1 */
    assert_int_equal(etl_daemon_missed(s, A - 5 * H, A + 30, ETL_CATCHUP_ALL, 0, out), 1);
    assert_int_equal(out[0], A);
    /* no earlier scheduled run: nothing was missed */
    assert_int_equal(etl_daemon_missed(s, 0, A + 30, ETL_CATCHUP_ALL, 10, out), 0);
    assert_int_equal(etl_daemon_missed(s, -1, A + 30, ETL_CATCHUP_LATEST, 10, out), 0);
    /* 'now' is inclusive; nothing missed when the last run is the latest fire */
    assert_int_equal(etl_daemon_missed(s, A - H, A, ETL_CATCHUP_ALL, 10, out), 1);
    assert_int_equal(out[0], A);
    assert_int_equal(etl_daemon_missed(s, A, A + H - 1, ETL_CATCHUP_ALL, 10, out), 0);
    etl_schedule_free(s);
}

static void
test_missed_dst(void **state)
{
    struct etl_schedule *s = sched_ok("30 2 * * *", "Europe/Berlin");
    int64_t out[10];

    (void)state;
    /* spring forward: 02:30 on 03-30 does not exist, it fires at 03:00 */
    assert_int_equal(etl_daemon_missed(s, iso("2025-03-28T01:30Z"), iso("2025-04-01T00:00Z"),
                                       ETL_CATCHUP_ALL, 10, out), 3);
    assert_int_equal(out[0], iso("2025-03-29T01:30Z"));
    assert_int_equal(out[1], iso("2025-03-30T01:00Z"));
    assert_int_equal(out[2], iso("2025-03-31T00:30Z"));
    /* fall back: 02:30 occurs twice and was missed once */
    assert_int_equal(etl_daemon_missed(s, iso("2025-10-25T00:30Z"), iso("2025-10-27T00:00Z"),
                                       ETL_CATCHUP_ALL, 10, out), 1);
    assert_int_equal(out[0], iso("2025-10-26T00:30Z"));
    etl_schedule_free(s);

    /* a wildcard schedule missed both passes through the repeated hour */
    s = sched_ok("*/30 2 * * *", "Europe/Berlin");
    assert_int_equal(etl_daemon_missed(s, iso("2025-10-25T12:00Z"), iso("2025-10-26T02:00Z"),
                                       ETL_CATCHUP_ALL, 10, out), 4);
    assert_int_equal(out[0], iso("2025-10-26T00:00Z"));
    assert_int_equal(out[1], iso("2025-10-26T00:30Z"));
    assert_int_equal(out[2], iso("2025-10-26T01:00Z"));
    assert_int_equal(out[3], iso("2025-10-26T01:30Z"));
    assert_int_equal(etl_daemon_missed(s, iso("2025-10-25T12:00Z"), iso("2025-10-26T02:00Z"),
                                       ETL_CATCHUP_LATEST, 10, out), 1);
    assert_int_equal(out[0], iso("2025-10-26T01:30Z"));
    etl_schedule_free(s);
}

/* ---- the clock ---- */

static void
test_clock_parse(void **state)
{
    static const char *const bad[] = {
        "", "x", "12abc", "99999999999999999999", "2026-01-01", "2026-01-01T00:00",
        "2026-01-01T00:00Zx", "2026-13-01T00:00Z", "2026-01-00T00:00Z",
        "2026-01-01T24:00Z", "2026-01-01T00:60Z", "2026-01-01 00:00Z",
    };
    struct etl_err err;
    int64_t t, shift = 100;

    (void)state;
    assert_int_equal(etl_clock_parse("1767225600", &t, &err), 0);
    assert_int_equal(t, A);
    assert_int_equal(etl_clock_parse("2026-01-01T00:00Z", &t, &err), 0);
    assert_int_equal(t, A);
    assert_int_equal(etl_clock_parse("2026-01-01T01:02:03Z", &t, &err), 0);
    assert_int_equal(t, A + H + 123);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[256];

        etl_err_clear(&err);
        assert_int_equal(etl_clock_parse(bad[i], &t, &err), -1);
        assert_int_equal(err.code, ETL_E_CONFIG);
        snprintf(want, sizeof(want), "invalid clock start \"%s\": expected seconds since "
                 "the epoch or YYYY-MM-DDTHH:MM[:SS]Z", bad[i]);
        assert_string_equal(err.msg, want);
    }
    /* the wall clock, shifted or not */
    t = etl_clock_wall_now(&shift) - (int64_t)time(NULL);
    assert_true(t >= 99 && t <= 101);
    t = etl_clock_wall.now(etl_clock_wall.arg) - (int64_t)time(NULL);
    assert_true(t >= -1 && t <= 1);
}

/* ---- the loop, on a fake clock ---- */

#define MAX_RUNS 16

struct fake {
    int64_t now;
    int64_t stop_at;            /* etl_stop_requested once the clock gets there */
    int64_t run_secs;           /* how long a run takes */
    int64_t last;               /* what the ledger says, for every pipeline */
    int nruns;
    char name[MAX_RUNS][16];
    int64_t fire[MAX_RUNS];
    int64_t at[MAX_RUNS];       /* the clock when the run started */
    int nlast;                  /* ledger lookups */
};

static struct fake fake;

static void
fake_advance(int64_t secs)
{
    fake.now += secs;
    if (fake.now >= fake.stop_at) {
        etl_stop_requested = 1;
    }
}

static int64_t
fake_now(void *arg)
{
    assert_ptr_equal(arg, &fake);
    return fake.now;
}

static void
fake_sleep(void *arg, double seconds)
{
    assert_ptr_equal(arg, &fake);
    assert_true(seconds > 0 && seconds <= 1.0);
    fake_advance((int64_t)seconds < seconds ? (int64_t)seconds + 1 : (int64_t)seconds);
}

static int64_t
fake_last(void *arg, struct etl_pipeline *p)
{
    assert_ptr_equal(arg, &fake);
    assert_non_null(p);
    fake.nlast++;
    return fake.last;
}

static void
fake_run(void *arg, struct etl_pipeline *p, int64_t fire)
{
    assert_ptr_equal(arg, &fake);
    assert_true(fake.nruns < MAX_RUNS);
    snprintf(fake.name[fake.nruns], sizeof(fake.name[0]), "%s", p->name);
    fake.fire[fake.nruns] = fire;
    fake.at[fake.nruns] = fake.now;
    fake.nruns++;
    fake_advance(fake.run_secs);
}

static const struct etl_clock fake_clock = { fake_now, fake_sleep, &fake };

/* A pipeline for a hand-made config; etl_config_free frees it. */
static struct etl_pipeline *
pipeline(const char *name, const char *expr, enum etl_catchup catchup, long max)
{
    struct etl_pipeline *p = calloc(1, sizeof(*p));

    assert_non_null(p);
    p->name = strdup(name);
    assert_non_null(p->name);
    if (expr != NULL) {
        p->schedule = strdup(expr);
        p->sched = sched_ok(expr, "UTC");
    }
    p->catchup = catchup;
    p->catchup_max = max;
    return p;
}

/* Run the daemon on pipelines p1 (and p2, may be NULL) from 'start'. */
static int
run_daemon(int64_t start, int64_t stop_at, struct etl_pipeline *p1, struct etl_pipeline *p2,
           struct etl_err *err)
{
    struct etl_config *cfg = calloc(1, sizeof(*cfg));
    struct etl_daemon_opts o = { 0 };

    assert_non_null(cfg);
    cfg->pipelines = calloc(2, sizeof(*cfg->pipelines));
    assert_non_null(cfg->pipelines);
    cfg->pipelines[cfg->npipelines++] = p1;
    if (p2 != NULL) {
        cfg->pipelines[cfg->npipelines++] = p2;
    }
    p1->config = cfg;
    fake.now = start;
    fake.stop_at = stop_at;
    fake.nruns = 0;
    fake.nlast = 0;
    etl_stop_requested = 0;
    o.config_path = "/nonexistent.yaml";
    o.listen = "off";         /* no HTTP server in unit tests */
    o.clock = &fake_clock;
    o.last_fire = fake_last;
    o.run = fake_run;
    o.hook_arg = &fake;
    etl_err_clear(err);
    return etl_daemon_run(cfg, &o, err);
}

/* The recorded fires, relative to 'base', as "name@+N ..." */
static const char *
runs(int64_t base)
{
    static char out[512];
    size_t len = 0;

    out[0] = '\0';
    for (int i = 0; i < fake.nruns; i++) {
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s@%+lld", i ? " " : "",
                                fake.name[i], (long long)(fake.fire[i] - base));
    }
    return out;
}

static int
loop_teardown(void **state)
{
    (void)state;
    etl_stop_requested = 0;
    return 0;
}

static void
test_loop_fires(void **state)
{
    struct etl_err err;

    (void)state;
    fake.run_secs = 0;
    assert_int_equal(run_daemon(A + 5, A + 60,
                                pipeline("p", "@every 10s", ETL_CATCHUP_NONE, 10), NULL,
                                &err), 0);
    assert_string_equal(runs(A), "p@+10 p@+20 p@+30 p@+40 p@+50");
    for (int i = 0; i < fake.nruns; i++) {
        assert_int_equal(fake.at[i], fake.fire[i]);     /* on time, not before */
    }
    assert_int_equal(fake.nlast, 0);                    /* catch-up none: no lookup */
}

static void
test_loop_long_run(void **state)
{
    struct etl_err err;

    (void)state;
    /* a run takes 25 s: the first fire it overran runs late, once; the
     * others it overran are skipped, not queued */
    fake.run_secs = 25;
    assert_int_equal(run_daemon(A + 5, A + 100,
                                pipeline("p", "@every 10s", ETL_CATCHUP_NONE, 10), NULL,
                                &err), 0);
    assert_string_equal(runs(A), "p@+10 p@+20 p@+40 p@+70");
    assert_int_equal(fake.at[1], A + 35);
    assert_int_equal(fake.at[2], A + 60);
}

static void
test_loop_two_pipelines(void **state)
{
    struct etl_err err;

    (void)state;
    fake.run_secs = 0;
    assert_int_equal(run_daemon(A + 1, A + 16,
                                pipeline("a", "@every 7s", ETL_CATCHUP_NONE, 10),
                                pipeline("b", "@every 5s", ETL_CATCHUP_NONE, 10), &err), 0);
    /* the one due soonest goes first (A is a multiple of 5 and of 7) */
    assert_string_equal(runs(A), "b@+5 a@+7 b@+10 a@+14 b@+15");
}

static void
test_loop_catchup(void **state)
{
    struct etl_err err;

    (void)state;
    /* last served A-5h; started a second before the regular fire A+1h:
     * the missed ones run first, oldest first, then the regular one */
    fake.run_secs = 1;
    fake.last = A - 5 * H;
    assert_int_equal(run_daemon(A + H - 1, A + H + 10,
                                pipeline("p", "@every 1h", ETL_CATCHUP_ALL, 3),
                                pipeline("manual", NULL, ETL_CATCHUP_ALL, 3), &err), 0);
    assert_string_equal(runs(A), "p@-7200 p@-3600 p@+0 p@+3600");
    assert_int_equal(fake.nlast, 1);

    assert_int_equal(run_daemon(A + H - 1, A + H + 10,
                                pipeline("p", "@every 1h", ETL_CATCHUP_LATEST, 3), NULL,
                                &err), 0);
    assert_string_equal(runs(A), "p@+0 p@+3600");

    assert_int_equal(run_daemon(A + H - 1, A + H + 10,
                                pipeline("p", "@every 1h", ETL_CATCHUP_NONE, 3), NULL,
                                &err), 0);
    assert_string_equal(runs(A), "p@+3600");
    assert_int_equal(fake.nlast, 0);

    /* never ran on a schedule: nothing to make up */
    fake.last = 0;
    assert_int_equal(run_daemon(A + H - 1, A + H + 10,
                                pipeline("p", "@every 1h", ETL_CATCHUP_ALL, 3), NULL,
                                &err), 0);
    assert_string_equal(runs(A), "p@+3600");
    assert_int_equal(fake.nlast, 1);
}

static void
test_loop_no_schedule(void **state)
{
    struct etl_err err;

    (void)state;
    assert_int_equal(run_daemon(A, A + 10, pipeline("manual", NULL, ETL_CATCHUP_NONE, 1),
                                NULL, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "no pipeline has a schedule");
    assert_int_equal(fake.nruns, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missed_policies),
        cmocka_unit_test(test_missed_dst),
        cmocka_unit_test(test_clock_parse),
        cmocka_unit_test_teardown(test_loop_fires, loop_teardown),
        cmocka_unit_test_teardown(test_loop_long_run, loop_teardown),
        cmocka_unit_test_teardown(test_loop_two_pipelines, loop_teardown),
        cmocka_unit_test_teardown(test_loop_catchup, loop_teardown),
        cmocka_unit_test_teardown(test_loop_no_schedule, loop_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
