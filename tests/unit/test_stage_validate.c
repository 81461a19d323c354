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

#include "etl/ewc/catalog.h"
#include "etl/pipeline.h"
#include "etl/resource.h"
#include "etl/stage.h"
#include "support.h"

extern const struct etl_stage_kind etl_stage_validate;

/* The verdict of the file being validated, as the chain hands it down. */
static struct etl_verdict verdict;
static struct etl_catalog *cat;
static struct etl_config cfg;
/* the catalog as the configuration's one resource, put by hand */
static struct etl_resource res = { .name = "catalog" };
static struct etl_pipeline pl;
static struct etl_batch batch;
static struct etl_job job;

struct fixture {
    struct etl_doc *doc;
    struct etl_stage st;
};

static int
setup(void **state)
{
    (void)state;
    if ((cat = test_catalog_load()) == NULL) {
        return -1;
    }
    res.ptr = cat;
    cfg.resources = &res;
    cfg.nresources = 1;
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
    fx->st.next = &test_record_stage;
    fx->st.job = &job;
    if (etl_node_check(fx->doc->root, etl_stage_validate.keys, "stage", err) < 0 ||
        etl_stage_validate.configure(&fx->st, fx->doc->root, err) < 0) {
        etl_stage_validate.destroy(&fx->st);
        etl_doc_free(fx->doc);
        free(fx);
        return NULL;
    }
    memset(&job, 0, sizeof(job));
    memset(&verdict, 0, sizeof(verdict));
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
    struct etl_chunk chunk = etl_chunk_rows(&batch);
    struct etl_err err;

    etl_err_clear(&err);
    test_record.batches = 0;
    assert_int_equal(etl_stage_validate.process(&fx->st, &chunk, &err), 0);
    assert_int_equal(test_record.batches, 1);
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
    test_record.finished = 0;
    assert_int_equal(etl_stage_validate.finish(&fx->st, &verdict, &err), 0);
    assert_int_equal(test_record.finished, 1);
    /* the next stage got the same verdict */
    assert_int_equal(test_record.verdict, verdict.kind);
    assert_string_equal(test_record.reason, verdict.reason);
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
    assert_int_equal(verdict.kind, ETL_VERDICT_OK);
    finish(fx);
    assert_int_equal(verdict.kind, ETL_VERDICT_REFUSED);
    assert_string_equal(verdict.reason,
                        "reject ratio 0.40 above max_reject_ratio 0.10 (4 of 10 rows)");

    /* the next file starts from zero: 1 of 10 is not above 0.10 */
    memset(&job, 0, sizeof(job));
    memset(&verdict, 0, sizeof(verdict));
    assert_int_equal(etl_stage_validate.begin(&fx->st, &err), 0);
    batch.n = 0;
    for (int i = 0; i < 10; i++) {
        r = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
        r->rejected = (i == 0);
    }
    run(fx);
    finish(fx);
    assert_int_equal(verdict.kind, ETL_VERDICT_OK);
    assert_string_equal(verdict.reason, "");

    /* counted over several batches */
    memset(&job, 0, sizeof(job));
    memset(&verdict, 0, sizeof(verdict));
    assert_int_equal(etl_stage_validate.begin(&fx->st, &err), 0);
    for (int b = 0; b < 3; b++) {
        batch.n = 0;
        r = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
        r->rejected = (b == 0);
        run(fx);
    }
    finish(fx);
    assert_int_equal(verdict.kind, ETL_VERDICT_REFUSED);
    assert_string_equal(verdict.reason,
                        "reject ratio 0.33 above max_reject_ratio 0.10 (1 of 3 rows)");

    /* an empty file is not refused; an earlier refusal is kept */
    memset(&job, 0, sizeof(job));
    memset(&verdict, 0, sizeof(verdict));
    etl_stage_validate.abort(&fx->st);
    finish(fx);
    assert_int_equal(verdict.kind, ETL_VERDICT_OK);
    verdict.kind = ETL_VERDICT_REFUSED;
    strcpy(verdict.reason, "earlier refusal");
    batch.n = 0;
    r = add_row("", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    run(fx);
    finish(fx);
    assert_string_equal(verdict.reason, "earlier refusal");
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
    assert_int_equal(verdict.kind, ETL_VERDICT_OK);          /* 0.50 is not above 0.50 */
    free_stage(fx);

    fx = make_stage("max_reject_ratio: 0\n", &err);
    batch.n = 0;
    r = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r = add_row("", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    (void)r;
    run(fx);
    finish(fx);
    assert_int_equal(verdict.kind, ETL_VERDICT_REFUSED);
    assert_string_equal(verdict.reason,
                        "reject ratio 0.50 above max_reject_ratio 0.00 (1 of 2 rows)");
    free_stage(fx);
}

/* validate takes row batches: a byte chunk is an internal error. */
static void
test_chunk_type(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_chunk chunk = { .bytes = "a,b\n", .len = 4 };

    (void)state;
    test_record.batches = 0;
    etl_err_clear(&err);
    assert_int_equal(etl_stage_validate.process(&fx->st, &chunk, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "stage validate (validate) expects rows, not bytes");
    assert_int_equal(test_record.batches, 0);
    free_stage(fx);
}

static void
test_no_catalog(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_chunk chunk = etl_chunk_rows(&batch);

    (void)state;
    cfg.nresources = 0;
    etl_err_clear(&err);
    assert_int_equal(etl_stage_validate.process(&fx->st, &chunk, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "stage validate has no catalog");
    cfg.nresources = 1;
    res.ptr = cat;
    free_stage(fx);
}

static void
test_known_codes(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[6];

    (void)state;
    batch.n = 0;
    r[0] = add_row("999999", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r[1] = add_row("110000", "888888", "paired_schools", "2021", 20210101, 20220101, "1");
    /* a name where a code belongs: normalize never does it, a later stage might */
    r[2] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r[2]->indicator = "引导企业投资";
    r[3] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r[3]->unit = "家";
    r[4] = add_row("北京", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r[5] = add_row("110000", "150000", "paired_schools", "2021", 20210101, 20220101, "1");
    run(fx);
    expect_reject(r[0], "unknown region code \"999999\"");
    expect_reject(r[1], "unknown partner code \"888888\"");
    expect_reject(r[2], "unknown indicator code \"引导企业投资\"");
    expect_reject(r[3], "unknown unit code \"家\"");
    expect_reject(r[4], "unknown region code \"北京\"");
    expect_ok(r[5]);
    finish(fx);
    free_stage(fx);

    fx = make_stage("known_codes: false\npair_valid: false\n", &err);
    assert_non_null(fx);
    batch.n = 0;
    r[0] = add_row("999999", "888888", "enterprises_guided", "2021", 20210101, 20220101,
                   "1");
    r[1] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "-1");
    r[1]->indicator = "引导企业投资";
    r[1]->unit = "家";
    run(fx);
    expect_ok(r[0]);
    /* not a code: no rule that needs the indicator applies */
    expect_ok(r[1]);
    finish(fx);
    free_stage(fx);
}

static void
test_ranges(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("ranges:\n"
                                    "  fiscal_aid_funds: {min: 0, max: 1e13}\n"
                                    "  enterprises_guided: {max: 5000}\n"
                                    "  poverty_labour_employed_growth: {min: -100, max: 1E3}\n"
                                    "non_negative: false\n"
                                    "required: [region, indicator, period]\n", &err);
    struct etl_row *r[14];

    (void)state;
    assert_non_null(fx);
    batch.n = 0;
    r[0] = add_row("000000", "", "fiscal_aid_funds", "2021", 20210101, 20220101,
                   "12000000000000");
    r[1] = add_row("000000", "", "fiscal_aid_funds", "2021", 20210101, 20220101,
                   "10000000000000");
    r[2] = add_row("000000", "", "fiscal_aid_funds", "2021", 20210101, 20220101,
                   "10000000000000.01");
    r[3] = add_row("000000", "", "fiscal_aid_funds", "2021", 20210101, 20220101, "0");
    r[4] = add_row("000000", "", "fiscal_aid_funds", "2021", 20210101, 20220101, "-0.5");
    r[5] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "5000");
    r[6] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "5001");
    r[7] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "-7");
    r[8] = add_row("000000", "", "poverty_labour_employed_growth", "2021", 20210101, 20220101,
                   "-100.5");
    r[9] = add_row("000000", "", "poverty_labour_employed_growth", "2021", 20210101, 20220101,
                   "1000.0001");
    /* missing: no bound applies */
    r[10] = add_row("000000", "", "fiscal_aid_funds", "2021", 20210101, 20220101, "—");
    r[11] = add_row("000000", "", "investment_in_place", "2021", 20210101, 20220101,
                    "99999999999999999999");
    /* a lower bound above the maximum is above it too */
    r[12] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "9000");
    r[12]->qualifier = ETL_Q_LOWER;
    r[13] = add_row("000000", "", "poverty_labour_employed_growth", "2021", 20210101,
                    20220101, "-100");
    run(fx);
    expect_reject(r[0], "value 12000000000000 of fiscal_aid_funds above maximum "
                        "10000000000000");
    expect_ok(r[1]);
    expect_reject(r[2], "value 10000000000000.01 of fiscal_aid_funds above maximum "
                        "10000000000000");
    expect_ok(r[3]);
    expect_reject(r[4], "value -0.5 of fiscal_aid_funds below minimum 0");
    expect_ok(r[5]);
    expect_reject(r[6], "value 5001 of enterprises_guided above maximum 5000");
    expect_ok(r[7]);
    expect_reject(r[8], "value -100.5 of poverty_labour_employed_growth below minimum -100");
    expect_reject(r[9], "value 1000.0001 of poverty_labour_employed_growth above maximum "
                        "1000");
    expect_ok(r[10]);
    expect_ok(r[11]);
    expect_reject(r[12], "value 9000 of enterprises_guided above maximum 5000");
    expect_ok(r[13]);
    finish(fx);
    free_stage(fx);

    /* non_negative comes first */
    fx = make_stage("ranges: {fiscal_aid_funds: {min: -10}}\n", &err);
    assert_non_null(fx);
    batch.n = 0;
    r[0] = add_row("000000", "", "fiscal_aid_funds", "2021", 20210101, 20220101, "-20");
    run(fx);
    expect_reject(r[0], "negative value -20 of additive indicator fiscal_aid_funds");
    finish(fx);
    free_stage(fx);
}

static void
test_accepted(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("accepted:\n"
                                    "  period_kind: [year, half]\n"
                                    "  qualifier: [exact, lower_bound, exact]\n"
                                    "required: [region, indicator, period]\n", &err);
    struct etl_row *r[6];

    (void)state;
    assert_non_null(fx);
    batch.n = 0;
    r[0] = add_row("000000", "", "enterprises_guided", "2021年6月", 20210601, 20210701, "1");
    r[0]->period.kind = ETL_PERIOD_MONTH;
    r[1] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r[1]->qualifier = ETL_Q_APPROX;
    r[2] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "—");
    r[3] = add_row("000000", "", "enterprises_guided", "2022H1", 20220101, 20220701, "1");
    r[3]->period.kind = ETL_PERIOD_HALF;
    r[3]->qualifier = ETL_Q_LOWER;
    r[4] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    run(fx);
    expect_reject(r[0], "period kind \"month\" not accepted (accepted: year, half)");
    expect_reject(r[1], "qualifier \"approximate\" not accepted (accepted: exact, "
                        "lower_bound)");
    expect_reject(r[2], "qualifier \"missing\" not accepted (accepted: exact, lower_bound)");
    expect_ok(r[3]);
    expect_ok(r[4]);
    finish(fx);
    free_stage(fx);

    fx = make_stage("accepted:\n"
                    "  region: [\"110000\", \"150000\", \"000000\"]\n"
                    "  partner: [\"150000\"]\n"
                    "  indicator: [paired_schools, paired_hospitals]\n"
                    "  unit: [school]\n", &err);
    assert_non_null(fx);
    batch.n = 0;
    r[0] = add_row("440000", "", "paired_schools", "2021", 20210101, 20220101, "1");
    r[1] = add_row("110000", "450000", "paired_schools", "2021", 20210101, 20220101, "1");
    r[2] = add_row("000000", "", "enterprises_guided", "2021", 20210101, 20220101, "1");
    r[3] = add_row("000000", "", "paired_hospitals", "2021", 20210101, 20220101, "1");
    r[4] = add_row("110000", "150000", "paired_schools", "2021", 20210101, 20220101, "1");
    /* an accepted set of a column the row leaves empty does not apply */
    r[5] = add_row("000000", "", "paired_schools", "2021", 20210101, 20220101, "1");
    run(fx);
    expect_reject(r[0], "region \"440000\" not accepted (accepted: 110000, 150000, 000000)");
    expect_reject(r[1], "partner \"450000\" not accepted (accepted: 150000)");
    expect_reject(r[2], "indicator \"enterprises_guided\" not accepted (accepted: "
                        "paired_schools, paired_hospitals)");
    expect_reject(r[3], "unit \"hospital\" not accepted (accepted: school)");
    expect_ok(r[4]);
    expect_ok(r[5]);
    finish(fx);
    free_stage(fx);

    /* known_codes off: a value not in the catalog is not accepted either */
    fx = make_stage("known_codes: false\npair_valid: false\n"
                    "accepted: {region: [\"110000\"], partner: [\"150000\"], "
                    "indicator: [paired_schools], unit: [school]}\n", &err);
    assert_non_null(fx);
    batch.n = 0;
    r[0] = add_row("999999", "", "paired_schools", "2021", 20210101, 20220101, "1");
    r[1] = add_row("110000", "999999", "paired_schools", "2021", 20210101, 20220101, "1");
    r[2] = add_row("110000", "", "paired_schools", "2021", 20210101, 20220101, "1");
    r[2]->indicator = "结对学校";
    r[3] = add_row("110000", "", "paired_schools", "2021", 20210101, 20220101, "1");
    r[3]->unit = "所";
    run(fx);
    expect_reject(r[0], "region \"999999\" not accepted (accepted: 110000)");
    expect_reject(r[1], "partner \"999999\" not accepted (accepted: 150000)");
    expect_reject(r[2], "indicator \"结对学校\" not accepted (accepted: paired_schools)");
    expect_reject(r[3], "unit \"所\" not accepted (accepted: school)");
    finish(fx);
    free_stage(fx);

    /* a long list is cut in the reason */
    fx = make_stage("accepted:\n  indicator: [enterprises_guided, investment_in_place, "
                    "industrial_parks_cobuilt, agri_products_sold, poverty_labour_employed, "
                    "labour_export, paired_schools]\n", &err);
    assert_non_null(fx);
    batch.n = 0;
    r[0] = add_row("000000", "", "paired_hospitals", "2021", 20210101, 20220101, "1");
    r[1] = add_row("000000", "", "paired_schools", "2021", 20210101, 20220101, "1");
    run(fx);
    expect_reject(r[0], "indicator \"paired_hospitals\" not accepted (accepted: "
                        "enterprises_guided, investment_in_place, industrial_parks_cobuilt, "
                        "agri_products_sold, …)");
    assert_true(strlen(r[0]->reason) < ETL_REASON_MAX - 1);
    expect_ok(r[1]);
    finish(fx);
    free_stage(fx);
}

static void
test_rule_order(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("accepted: {period_kind: [year]}\n"
                                    "ranges: {enterprises_guided: {max: 10}}\n"
                                    "min_year: 2000\n", &err);
    struct etl_row *r[5];

    (void)state;
    assert_non_null(fx);
    batch.n = 0;
    /* required, known_codes, accepted, years, non_negative, ranges, pair_valid */
    r[0] = add_row("999999", "", NULL, "2021", 20210101, 20220101, "1");
    r[1] = add_row("999999", "", "enterprises_guided", "1999H1", 19990101, 19990701, "-99");
    r[1]->period.kind = ETL_PERIOD_HALF;
    r[2] = add_row("000000", "", "enterprises_guided", "1999H1", 19990101, 19990701, "-99");
    r[2]->period.kind = ETL_PERIOD_HALF;
    r[3] = add_row("000000", "", "enterprises_guided", "1999", 19990101, 20000101, "-99");
    r[4] = add_row("110000", "450000", "enterprises_guided", "2021", 20210101, 20220101,
                   "99");
    run(fx);
    expect_reject(r[0], "missing indicator");
    expect_reject(r[1], "unknown region code \"999999\"");
    expect_reject(r[2], "period kind \"half\" not accepted (accepted: year)");
    expect_reject(r[3], "period \"1999\" before min_year 2000");
    expect_reject(r[4], "value 99 of enterprises_guided above maximum 10");
    finish(fx);
    free_stage(fx);
}

static void
test_catalog_changed(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("ranges: {enterprises_guided: {max: 10}}\n", &err);
    struct etl_catalog *other;
    struct etl_chunk chunk = etl_chunk_rows(&batch);

    (void)state;
    assert_non_null(fx);
    etl_err_clear(&err);
    other = etl_catalog_load("config/catalog", &err);
    assert_non_null(other);
    res.ptr = other;
    batch.n = 0;
    assert_int_equal(etl_stage_validate.process(&fx->st, &chunk, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "stage validate: catalog changed since it was configured");
    cfg.nresources = 1;
    res.ptr = cat;
    etl_catalog_free(other);
    free_stage(fx);

    /* ranges and accepted need the catalog at configure time */
    cfg.nresources = 0;
    assert_null(make_stage("ranges: {enterprises_guided: {max: 10}}\n", &err));
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "stage validate has no catalog");
    assert_null(make_stage("accepted: {qualifier: [exact]}\n", &err));
    assert_string_equal(err.msg, "stage validate has no catalog");
    fx = make_stage("min_year: 2000\n", &err);
    assert_non_null(fx);
    cfg.nresources = 1;
    res.ptr = cat;
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

/* As expect_config_error, and the hint. */
static void
expect_config_hint(const char *yaml, const char *msg, const char *where, const char *hint)
{
    struct etl_err err;

    assert_null(make_stage(yaml, &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, where);
    assert_string_equal(err.hint, hint);
}

static void
test_rule_config_errors(void **state)
{
    (void)state;
    /* ranges */
    expect_config_hint("ranges: {fiscal_aid: {max: 1}}\n",
                       "unknown indicator code \"fiscal_aid\" in ranges", "test.yaml:1:10",
                       "");
    expect_config_hint("ranges:\n  财政援助资金: {max: 1}\n",
                       "unknown indicator code \"财政援助资金\" in ranges", "test.yaml:2:3",
                       "\"财政援助资金\" is a name of indicator fiscal_aid_funds: use its code");
    expect_config_error("ranges: 5\n", "\"ranges\" must be a mapping", "test.yaml:1:9");
    expect_config_error("ranges:\n  fiscal_aid_funds: 5\n",
                        "range of fiscal_aid_funds must be a mapping", "test.yaml:2:21");
    expect_config_hint("ranges:\n  fiscal_aid_funds: {maximum: 5}\n",
                       "unknown key \"maximum\" in range of fiscal_aid_funds",
                       "test.yaml:2:22", "expected one of: min, max");
    expect_config_error("ranges:\n  fiscal_aid_funds: {max: lots}\n",
                        "\"max\" must be a number, found \"lots\"", "test.yaml:2:27");
    expect_config_error("ranges:\n  fiscal_aid_funds: {min: 0x10}\n",
                        "\"min\" must be a number, found \"0x10\"", "test.yaml:2:27");
    expect_config_error("ranges:\n  fiscal_aid_funds: {max: [1]}\n",
                        "\"max\" must be a number", "test.yaml:2:27");
    expect_config_error("ranges:\n  fiscal_aid_funds: {max: 1e99}\n",
                        "\"max\" 1e99 does not fit 63 characters", "test.yaml:2:27");
    expect_config_error("ranges:\n  fiscal_aid_funds: {}\n",
                        "range of fiscal_aid_funds has neither min nor max", "test.yaml:2:21");
    expect_config_error("ranges:\n  fiscal_aid_funds: {min: 10, max: 9.5}\n",
                        "max 9.5 of fiscal_aid_funds is below its min 10", "test.yaml:2:36");
    expect_config_error("ranges:\n  fiscal_aid_funds: {max: 1}\n"
                        "  paired_schools: {max: 1}\n  fiscal_aid_funds: {max: 2}\n",
                        "indicator fiscal_aid_funds given twice in ranges", "test.yaml:4:3");
    /* accepted */
    expect_config_error("accepted: [year]\n", "\"accepted\" must be a mapping",
                        "test.yaml:1:11");
    expect_config_hint("accepted:\n  period: [year]\n", "unknown key \"period\" in accepted",
                       "test.yaml:2:3", "expected one of: region, partner, indicator, unit, "
                       "period_kind, qualifier");
    expect_config_error("accepted:\n  period_kind: year\n", "\"period_kind\" must be a list",
                        "test.yaml:2:16");
    expect_config_error("accepted:\n  period_kind: []\n",
                        "accepted.period_kind is empty (no row would pass)", "test.yaml:2:16");
    expect_config_error("accepted:\n  period_kind: [year, weekly]\n",
                        "unknown period kind \"weekly\" in accepted.period_kind (expected "
                        "year, half, quarter, month, months or range)", "test.yaml:2:23");
    expect_config_error("accepted:\n  period_kind: [none]\n",
                        "unknown period kind \"none\" in accepted.period_kind (expected "
                        "year, half, quarter, month, months or range)", "test.yaml:2:17");
    expect_config_error("accepted:\n  period_kind: [[year]]\n",
                        "unknown period kind \"\" in accepted.period_kind (expected "
                        "year, half, quarter, month, months or range)", "test.yaml:2:17");
    expect_config_error("accepted:\n  qualifier: [exact, lower]\n",
                        "unknown qualifier \"lower\" in accepted.qualifier (expected exact, "
                        "lower_bound, approximate, estimate, provisional or missing)",
                        "test.yaml:2:22");
    expect_config_hint("accepted:\n  region: [\"110000\", 广东]\n",
                       "unknown region code \"广东\" in accepted.region", "test.yaml:2:22",
                       "\"广东\" is region 440000: use its code");
    expect_config_hint("accepted:\n  partner: [\"999999\"]\n",
                       "unknown region code \"999999\" in accepted.partner", "test.yaml:2:13",
                       "");
    expect_config_hint("accepted:\n  indicator: [结对学校]\n",
                       "unknown indicator code \"结对学校\" in accepted.indicator",
                       "test.yaml:2:15",
                       "\"结对学校\" is a name of indicator paired_schools: use its code");
    expect_config_error("accepted:\n  unit: [元]\n",
                        "unknown unit code \"元\" in accepted.unit", "test.yaml:2:10");
    expect_config_error("accepted:\n  unit: [CNY]\n  unit: [person]\n",
                        "key \"unit\" given twice in accepted", "test.yaml:3:3");
    /* known_codes */
    expect_config_error("known_codes: 1\n", "\"known_codes\" must be true or false",
                        "test.yaml:1:14");
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
        cmocka_unit_test(test_chunk_type),
        cmocka_unit_test(test_no_catalog),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_known_codes),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_catalog_changed),
        cmocka_unit_test(test_rule_config_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
