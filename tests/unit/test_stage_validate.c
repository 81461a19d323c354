/*
 * test_stage_validate.c
 *    The validate stage driven directly: hand-built normalized rows, a
 *    hand-built configuration holding the shipped catalog, a job, and a
 *    recording next stage.  Checks every rule and its exact reason, the
 *    reject ratio and the refusal of a file, and the configuration errors.
 *
 *    Run from the repository root (make unit does): the catalog is read
 *    from config/catalog.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/catalog.h"
#include "etl/pipeline.h"
#include "etl/stage.h"

extern const struct etl_stage_kind etl_stage_validate;

static struct etl_catalog *cat;
static struct etl_config cfg;
static struct etl_pipeline pl;
static struct etl_batch batch;
static struct etl_job job;

static int rec_batches, rec_finished;

static int
rec_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    (void)st;
    (void)in;
    (void)err;
    rec_batches++;
    return 0;
}

static int
rec_finish(struct etl_stage *st, struct etl_err *err)
{
    (void)st;
    (void)err;
    rec_finished++;
    return 0;
}

static const struct etl_stage_kind rec_kind = {
    .name = "record", .consumes = ETL_FLOW_ROWS, .produces = ETL_FLOW_NONE,
    .process = rec_process, .finish = rec_finish,
};
static struct etl_stage rec_stage = { .kind = &rec_kind, .name = (char *)"record" };

struct fixture {
    struct etl_doc *doc;
    struct etl_stage st;
};

static int
setup(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    cat = etl_catalog_load("config/catalog", &err);
    if (cat == NULL) {
        fprintf(stderr, "cannot load the catalog: %s %s\n", err.where, err.msg);
        return -1;
    }
    cfg.catalog = cat;
    pl.config = &cfg;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    etl_catalog_free(cat);
    return 0;
}

static struct fixture *
make_stage(const char *yaml, struct etl_err *err)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    etl_err_clear(err);
    fx->doc = etl_doc_parse("test.yaml", yaml, strlen(yaml), err);
    assert_non_null(fx->doc);
    fx->st.kind = &etl_stage_validate;
    fx->st.name = (char *)"validate";
    fx->st.pipeline = &pl;
    fx->st.next = &rec_stage;
    fx->st.job = &job;
    if (etl_node_check(fx->doc->root, etl_stage_validate.keys, "stage", err) < 0 ||
        etl_stage_validate.configure(&fx->st, fx->doc->root, err) < 0) {
        etl_stage_validate.destroy(&fx->st);
        etl_doc_free(fx->doc);
        free(fx);
        return NULL;
    }
    memset(&job, 0, sizeof(job));
    assert_int_equal(etl_stage_validate.begin(&fx->st, err), 0);
    return fx;
}

static void
free_stage(struct fixture *fx)
{
    etl_stage_validate.destroy(&fx->st);
    etl_doc_free(fx->doc);
    free(fx);
}

/* A normalized row; 'period' is the raw text, [start, end) its range. */
static struct etl_row *
add_row(const char *region, const char *partner, const char *indicator, const char *period,
        int32_t start, int32_t end, const char *value)
{
    struct etl_row *r = &batch.rows[batch.n++];
    const struct etl_indicator *ind = NULL;

    memset(r, 0, sizeof(*r));
    r->line = batch.n + 1;
    r->f[ETL_COL_PERIOD] = period;
    r->f[ETL_COL_VALUE] = value;
    snprintf(r->region, sizeof(r->region), "%s", region);
    snprintf(r->partner, sizeof(r->partner), "%s", partner);
    if (indicator != NULL) {
        ind = etl_catalog_indicator_find(cat, indicator, strlen(indicator));
        assert_non_null(ind);
        r->indicator = ind->code;
        r->unit = ind->unit;
    }
    if (start != 0) {
        r->period.kind = ETL_PERIOD_YEAR;
        r->period.start = start;
        r->period.end = end;
    }
    if (value == NULL || strcmp(value, "—") == 0) {
        r->qualifier = ETL_Q_MISSING;
    } else {
        snprintf(r->value, sizeof(r->value), "%s", value);
    }
    return r;
}

static void
run(struct fixture *fx)
{
    struct etl_chunk chunk = { .batch = &batch };
    struct etl_err err;

    etl_err_clear(&err);
    rec_batches = 0;
    assert_int_equal(etl_stage_validate.process(&fx->st, &chunk, &err), 0);
    assert_int_equal(rec_batches, 1);
}

static void
expect_ok(const struct etl_row *r)
{
    if (r->rejected) {
        fail_msg("line %lu rejected: %s", r->line, r->reason);
    }
}

static void
expect_reject(const struct etl_row *r, const char *reason)
{
    if (!r->rejected) {
        fail_msg("line %lu not rejected (expected: %s)", r->line, reason);
    }
    assert_string_equal(r->reason, reason);
}

static void
finish(struct fixture *fx)
{
    struct etl_err err;

    etl_err_clear(&err);
    rec_finished = 0;
    assert_int_equal(etl_stage_validate.finish(&fx->st, &err), 0);
    assert_int_equal(rec_finished, 1);
}

static void
test_required_defaults(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[7];

    (void)state;
    batch.n = 0;
    r[0] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "2193");
    r[1] = add_row("", "", "enterprises_guided", "2021", 20210101, 20220101, "2193");
    r[2] = add_row("000000", "", NULL, "2021", 20210101, 20220101, "2193");
    r[3] = add_row("000000", "", "enterprises_guided", NULL, 0, 0, "2193");
    r[4] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "—");
    r[5] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, NULL);
    /* partner and unit are not required by default */
    r[6] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r[6]->unit = NULL;
    run(fx);
    expect_ok(r[0]);
    expect_reject(r[1], "missing region");
    expect_reject(r[2], "missing indicator");
    expect_reject(r[3], "missing period");
    expect_reject(r[4], "missing value \"—\"");
    expect_reject(r[5], "missing value");
    expect_ok(r[6]);
    finish(fx);
    free_stage(fx);
}

static void
test_required_configured(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("required: [region, indicator, period, partner, unit, "
                                    "note]\n", &err);
    struct etl_row *r[5];

    (void)state;
    assert_non_null(fx);
    batch.n = 0;
    /* value not required: a missing value passes, stored as missing */
    r[0] = add_row("110000", "150000", "paired_schools", "2021", 20210101, 20220101, "—");
    r[0]->f[ETL_COL_NOTE] = "京蒙";
    r[1] = add_row("110000", "", "paired_schools", "2021", 20210101, 20220101, "1");
    r[1]->f[ETL_COL_NOTE] = "x";
    r[2] = add_row("110000", "150000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[2]->f[ETL_COL_NOTE] = "x";
    r[2]->unit = NULL;
    r[3] = add_row("110000", "150000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[4] = add_row("110000", "150000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[4]->f[ETL_COL_NOTE] = "";
    run(fx);
    expect_ok(r[0]);
    assert_int_equal(r[0]->qualifier, ETL_Q_MISSING);
    expect_reject(r[1], "missing partner");
    expect_reject(r[2], "missing unit");
    expect_reject(r[3], "missing note");
    expect_reject(r[4], "missing note");
    finish(fx);
    free_stage(fx);
}

static void
test_non_negative(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct fixture *off;
    struct etl_row *r[4];

    (void)state;
    batch.n = 0;
    r[0] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "-5");
    r[1] = add_row("000000", "", "poverty_labour_employed_growth", "2021", 20210101,
                   20220101, "-3.5");
    r[2] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "0");
    r[3] = add_row("000000", "", "investment_in_place", "2021", 20210101, 20220101,
                   "-0.5");
    run(fx);
    expect_reject(r[0], "negative value -5 of additive indicator enterprises_guided");
    expect_ok(r[1]);
    expect_ok(r[2]);
    expect_reject(r[3], "negative value -0.5 of additive indicator investment_in_place");
    finish(fx);
    free_stage(fx);

    off = make_stage("non_negative: false\n", &err);
    batch.n = 0;
    r[0] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "-5");
    run(off);
    expect_ok(r[0]);
    finish(off);
    free_stage(off);
}

static void
test_years(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct fixture *narrow;
    struct etl_row *r[5];

    (void)state;
    batch.n = 0;
    r[0] = add_row("000000", "", "enterprises_guided", "1989", 19890101, 19900101, "1");
    r[1] = add_row("000000", "", "enterprises_guided", "1990", 19900101, 19910101, "1");
    r[2] = add_row("000000", "", "enterprises_guided", "2100", 21000101, 21010101, "1");
    r[3] = add_row("000000", "", "enterprises_guided", "2101", 21010101, 21020101, "1");
    r[4] = add_row("000000", "", "enterprises_guided", "2099-2101", 20990101, 21020101, "1");
    run(fx);
    expect_reject(r[0], "period \"1989\" before min_year 1990");
    expect_ok(r[1]);
    expect_ok(r[2]);
    expect_reject(r[3], "period \"2101\" after max_year 2100");
    expect_reject(r[4], "period \"2099-2101\" after max_year 2100");
    finish(fx);
    free_stage(fx);

    narrow = make_stage("min_year: 2016\nmax_year: 2022\n", &err);
    assert_non_null(narrow);
    batch.n = 0;
    r[0] = add_row("000000", "", "enterprises_guided", "1996—2011", 19960101, 20120101, "1");
    r[1] = add_row("000000", "", "enterprises_guided", "2022年下半年", 20220701, 20230101, "1");
    r[2] = add_row("000000", "", "enterprises_guided", "2023", 20230101, 20240101, "1");
    run(narrow);
    expect_reject(r[0], "period \"1996—2011\" before min_year 2016");
    expect_ok(r[1]);
    expect_reject(r[2], "period \"2023\" after max_year 2022");
    finish(narrow);
    free_stage(narrow);
}

static void
test_pairs(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct fixture *off;
    struct etl_row *r[9];

    (void)state;
    batch.n = 0;
    r[0] = add_row("110000", "450000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[1] = add_row("110000", "150000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[2] = add_row("320000", "630000", "paired_schools", "2019", 20190101, 20200101, "1");
    r[3] = add_row("320000", "630000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[4] = add_row("320500", "520600", "paired_schools", "2019", 20190101, 20200101, "1");
    r[5] = add_row("370000", "620000", "paired_schools", "十三五", 20160101, 20210101, "1");
    r[5]->period.kind = ETL_PERIOD_RANGE;
    r[6] = add_row("150000", "110000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[7] = add_row("330100", "510800", "paired_schools", "2022", 20220101, 20230101, "1");
    r[8] = add_row("110000", "450000", "paired_schools", NULL, 0, 0, "1");
    r[8]->f[ETL_COL_PERIOD] = NULL;
    run(fx);
    expect_reject(r[0], "no east–west pairing 北京–广西 in 2021");
    expect_ok(r[1]);
    expect_reject(r[2], "no east–west pairing 江苏–青海 in 2019");
    expect_ok(r[3]);
    expect_ok(r[4]);
    expect_reject(r[5], "no east–west pairing 山东–甘肃 in 2016–2020");
    expect_ok(r[6]);
    expect_ok(r[7]);
    expect_reject(r[8], "missing period");
    finish(fx);
    free_stage(fx);

    off = make_stage("pair_valid: false\nrequired: [region]\n", &err);
    batch.n = 0;
    r[0] = add_row("110000", "450000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[1] = add_row("110000", "450000", "paired_schools", NULL, 0, 0, "1");
    run(off);
    expect_ok(r[0]);
    expect_ok(r[1]);
    finish(off);
    free_stage(off);

    /* without a period, a pair is checked against any time */
    off = make_stage("required: [region]\n", &err);
    batch.n = 0;
    r[0] = add_row("110000", "450000", "paired_schools", NULL, 0, 0, "1");
    r[1] = add_row("320000", "630000", "paired_schools", NULL, 0, 0, "1");
    run(off);
    expect_reject(r[0], "no east–west pairing 北京–广西");
    expect_ok(r[1]);
    finish(off);
    free_stage(off);
}

static void
test_reject_ratio(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r;

    (void)state;
    /* 10 rows: 2 rejected before (parse, normalize), 2 by validate */
    batch.n = 0;
    for (int i = 0; i < 10; i++) {
        r = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
        if (i < 2) {
            r->rejected = true;
            strcpy(r->reason, "earlier");
        } else if (i < 4) {
            r->region[0] = '\0';
        }
    }
    run(fx);
    assert_string_equal(batch.rows[0].reason, "earlier");
    assert_string_equal(batch.rows[2].reason, "missing region");
    assert_false(job.refused);
    finish(fx);
    assert_true(job.refused);
    assert_string_equal(job.refuse_reason,
                        "reject ratio 0.40 above max_reject_ratio 0.10 (4 of 10 rows)");

    /* the next file starts from zero: 1 of 10 is not above 0.10 */
    memset(&job, 0, sizeof(job));
    assert_int_equal(etl_stage_validate.begin(&fx->st, &err), 0);
    batch.n = 0;
    for (int i = 0; i < 10; i++) {
        r = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
        r->rejected = (i == 0);
    }
    run(fx);
    finish(fx);
    assert_false(job.refused);
    assert_string_equal(job.refuse_reason, "");

    /* counted over several batches */
    memset(&job, 0, sizeof(job));
    assert_int_equal(etl_stage_validate.begin(&fx->st, &err), 0);
    for (int b = 0; b < 3; b++) {
        batch.n = 0;
        r = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
        r->rejected = (b == 0);
        run(fx);
    }
    finish(fx);
    assert_true(job.refused);
    assert_string_equal(job.refuse_reason,
                        "reject ratio 0.33 above max_reject_ratio 0.10 (1 of 3 rows)");

    /* an empty file is not refused; an earlier refusal is kept */
    memset(&job, 0, sizeof(job));
    etl_stage_validate.abort(&fx->st);
    finish(fx);
    assert_false(job.refused);
    job.refused = true;
    strcpy(job.refuse_reason, "earlier refusal");
    batch.n = 0;
    r = add_row("", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    run(fx);
    finish(fx);
    assert_string_equal(job.refuse_reason, "earlier refusal");
    free_stage(fx);
}

static void
test_max_ratio_configured(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("max_reject_ratio: 0.5\n", &err);
    struct etl_row *r;

    (void)state;
    batch.n = 0;
    for (int i = 0; i < 4; i++) {
        r = add_row(i < 2 ? "" : "000000", "", "enterprises_guided", "2021", 20210101,
                    20220101, "1");
    }
    run(fx);
    finish(fx);
    assert_false(job.refused);          /* 0.50 is not above 0.50 */
    free_stage(fx);

    fx = make_stage("max_reject_ratio: 0\n", &err);
    batch.n = 0;
    r = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r = add_row("", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    (void)r;
    run(fx);
    finish(fx);
    assert_true(job.refused);
    assert_string_equal(job.refuse_reason,
                        "reject ratio 0.50 above max_reject_ratio 0.00 (1 of 2 rows)");
    free_stage(fx);
}

static void
test_no_catalog(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_chunk chunk = { .batch = &batch };

    (void)state;
    cfg.catalog = NULL;
    etl_err_clear(&err);
    assert_int_equal(etl_stage_validate.process(&fx->st, &chunk, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "stage validate has no catalog");
    cfg.catalog = cat;
    free_stage(fx);
}

static void
expect_config_error(const char *yaml, const char *msg, const char *where)
{
    struct etl_err err;

    assert_null(make_stage(yaml, &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, where);
}

static void
test_config_errors(void **state)
{
    (void)state;
    expect_config_error("required: [region, valeu]\n",
                        "unknown column \"valeu\" in required (expected region, partner, "
                        "indicator, period, value, unit or note)", "test.yaml:1:20");
    expect_config_error("required: [[region]]\n",
                        "unknown column \"\" in required (expected region, partner, "
                        "indicator, period, value, unit or note)", "test.yaml:1:12");
    expect_config_error("required: region\n", "\"required\" must be a list", "test.yaml:1:11");
    expect_config_error("max_reject_ratio: 1.5\n",
                        "\"max_reject_ratio\" is out of range (0 to 1)", "test.yaml:1:19");
    expect_config_error("max_reject_ratio: lots\n",
                        "\"max_reject_ratio\" must be a number, found \"lots\"",
                        "test.yaml:1:19");
    expect_config_error("min_year: 2020\nmax_year: 2010\n",
                        "max_year 2010 is before min_year 2020", "test.yaml:2:11");
    expect_config_error("min_year: 99\n", "99 is out of range (1000 to 9999)",
                        "test.yaml:1:11");
    expect_config_error("non_negative: perhaps\n", "\"non_negative\" must be true or false",
                        "test.yaml:1:15");
    expect_config_error("pair_valid: 2\n", "\"pair_valid\" must be true or false",
                        "test.yaml:1:13");
    expect_config_error("max_reject: 0.2\n", "unknown key \"max_reject\" in stage",
                        "test.yaml:1:1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_required_defaults),
        cmocka_unit_test(test_required_configured),
        cmocka_unit_test(test_non_negative),
        cmocka_unit_test(test_years),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_reject_ratio),
        cmocka_unit_test(test_max_ratio_configured),
        cmocka_unit_test(test_no_catalog),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
