/*
 * test_stage_normalize.c
 *    The normalize stage driven directly: a hand-built configuration holding
 *    the shipped catalog, a hand-built batch, and a recording next stage.
 *    Checks the normalized fields of the seed's figures, every rejection
 *    reason, the configuration keys and their errors.
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
#include <time.h>

#include "etl/ewc/catalog.h"
#include "etl/pipeline.h"
#include "etl/resource.h"
#include "etl/stage.h"
#include "support.h"

extern const struct etl_stage_kind etl_stage_normalize;
extern const struct etl_stage_kind etl_stage_validate;

static struct etl_catalog *cat;
static struct etl_config cfg;
/* the catalog as the configuration's one resource, put by hand */
static struct etl_resource res = { .name = "catalog" };
static struct etl_pipeline pl;
static struct etl_batch batch;
static struct etl_verdict verdict;   /* the chain's, handed to finish() */

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
    pl.name = (char *)"test";
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    etl_catalog_free(cat);
    return 0;
}

/* Configure a normalize stage from YAML text; NULL with 'err' on failure. */
static struct fixture *
make_stage(const char *yaml, struct etl_err *err)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    etl_err_clear(err);
    fx->doc = etl_doc_parse("test.yaml", yaml, strlen(yaml), err);
    assert_non_null(fx->doc);
    fx->st.kind = &etl_stage_normalize;
    fx->st.name = (char *)"normalize";
    fx->st.pipeline = &pl;
    fx->st.next = &test_record_stage;
    fx->st.node = fx->doc->root;
    if (etl_node_check(fx->doc->root, etl_stage_normalize.keys, "stage", err) < 0 ||
        etl_stage_normalize.configure(&fx->st, fx->doc->root, err) < 0) {
        etl_stage_normalize.destroy(&fx->st);
        etl_doc_free(fx->doc);
        free(fx);
        return NULL;
    }
    return fx;
}

static void
free_stage(struct fixture *fx)
{
    etl_stage_normalize.destroy(&fx->st);
    etl_doc_free(fx->doc);
    free(fx);
}

static struct etl_row *
add_row(const char *region, const char *partner, const char *indicator, const char *period,
        const char *value, const char *unit)
{
    struct etl_row *r = &batch.rows[batch.n++];

    memset(r, 0, sizeof(*r));
    r->line = batch.n + 1;
    r->raw = "raw";
    r->raw_len = 3;
    r->f[ETL_COL_REGION] = region;
    r->f[ETL_COL_PARTNER] = partner;
    r->f[ETL_COL_INDICATOR] = indicator;
    r->f[ETL_COL_PERIOD] = period;
    r->f[ETL_COL_VALUE] = value;
    r->f[ETL_COL_UNIT] = unit;
    /* what a stale row of the previous batch might hold */
    strcpy(r->region, "999999");
    strcpy(r->value, "42");
    return r;
}

static void
run(struct fixture *fx)
{
    struct etl_chunk chunk = etl_chunk_rows(&batch);
    struct etl_err err;

    etl_err_clear(&err);
    test_record.batches = 0;
    test_record.rows = 0;
    assert_int_equal(etl_stage_normalize.process(&fx->st, &chunk, &err), 0);
    assert_int_equal(test_record.batches, 1);
    assert_int_equal(test_record.rows, batch.n);
    assert_ptr_equal(test_record.last, &batch);
}

static void
expect_row(const struct etl_row *r, const char *region, const char *partner,
           const char *indicator, enum etl_period_kind kind, int32_t start, int32_t end,
           const char *value, const char *unit, enum etl_qualifier q)
{
    if (r->rejected) {
        fail_msg("line %lu rejected: %s", r->line, r->reason);
    }
    assert_string_equal(r->region, region);
    assert_string_equal(r->partner, partner);
    if (indicator == NULL) {
        assert_null(r->indicator);
    } else {
        assert_string_equal(r->indicator, indicator);
    }
    assert_int_equal(r->period.kind, kind);
    assert_int_equal(r->period.start, start);
    assert_int_equal(r->period.end, end);
    assert_string_equal(r->value, value);
    if (unit == NULL) {
        assert_null(r->unit);
    } else {
        assert_string_equal(r->unit, unit);
    }
    assert_int_equal(r->qualifier, q);
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
test_seed_figures(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[16];

    (void)state;
    batch.n = 0;
    r[0] = add_row("全国", NULL, "吸纳脱贫劳动力就业", "2021", "926.3万", NULL);
    r[1] = add_row("全国", "", "采购和帮助销售农副产品", "2021年", "813亿元", "");
    r[2] = add_row("全国", NULL, "无偿援助资金(亿元)", "1996—2011", "78.6", NULL);
    r[3] = add_row("全国", NULL, "劳务输出", "1996-2011", "265万人次", NULL);
    r[4] = add_row("全国", NULL, "企业累计投资", "2012-2020年", "1万多亿元", NULL);
    r[5] = add_row("广东", NULL, "贫困人口脱贫", "2012年至2020年", "500多万", NULL);
    r[6] = add_row("京蒙", NULL, "结对学校", "2021", "468", "所");
    r[7] = add_row("全国", NULL, "实际到位投资额", "2022年上半年", "342.3", "亿元");
    r[8] = add_row("全国", NULL, "共建产业园区", "2021", "482个", NULL);
    r[9] = add_row("全国", NULL, "实际到位投资额（亿元）", "2022H1", "342.3", NULL);
    r[10] = add_row("全国", NULL, "财政援助和社会帮扶资金", "2012-2020", "1,005.4亿元", NULL);
    r[11] = add_row("全国", NULL, "引导企业投资", "2021", "２，１９３", NULL);
    r[12] = add_row("全国", NULL, "互派干部", "2022-S1", "2,448", "人");
    r[13] = add_row("广东", NULL, "贫困县摘帽", "2012-2020", "93个", NULL);
    r[14] = add_row("全国", NULL, "吸纳脱贫劳动力就业同比增长", "2021", "12%", NULL);
    r[15] = add_row("  广西 ", NULL, " enterprises_guided ", " 2021 ", " 12 ", NULL);
    run(fx);
    expect_row(r[0], "000000", "", "poverty_labour_employed", ETL_PERIOD_YEAR, 20210101,
               20220101, "9263000", "person", ETL_Q_EXACT);
    expect_row(r[1], "000000", "", "agri_products_sold", ETL_PERIOD_YEAR, 20210101, 20220101,
               "81300000000", "CNY", ETL_Q_EXACT);
    expect_row(r[2], "000000", "", "free_aid_funds", ETL_PERIOD_RANGE, 19960101, 20120101,
               "7860000000", "CNY", ETL_Q_EXACT);
    expect_row(r[3], "000000", "", "labour_export", ETL_PERIOD_RANGE, 19960101, 20120101,
               "2650000", "person_time", ETL_Q_EXACT);
    expect_row(r[4], "000000", "", "enterprise_investment", ETL_PERIOD_RANGE, 20120101,
               20210101, "1000000000000", "CNY", ETL_Q_LOWER);
    expect_row(r[5], "440000", "", "poor_people_lifted", ETL_PERIOD_RANGE, 20120101, 20210101,
               "5000000", "person", ETL_Q_LOWER);
    expect_row(r[6], "110000", "150000", "paired_schools", ETL_PERIOD_YEAR, 20210101, 20220101,
               "468", "school", ETL_Q_EXACT);
    expect_row(r[7], "000000", "", "investment_in_place", ETL_PERIOD_HALF, 20220101, 20220701,
               "34230000000", "CNY", ETL_Q_EXACT);
    expect_row(r[8], "000000", "", "industrial_parks_cobuilt", ETL_PERIOD_YEAR, 20210101,
               20220101, "482", "park", ETL_Q_EXACT);
    expect_row(r[9], "000000", "", "investment_in_place", ETL_PERIOD_HALF, 20220101, 20220701,
               "34230000000", "CNY", ETL_Q_EXACT);
    expect_row(r[10], "000000", "", "fiscal_social_funds", ETL_PERIOD_RANGE, 20120101,
               20210101, "100540000000", "CNY", ETL_Q_EXACT);
    expect_row(r[11], "000000", "", "enterprises_guided", ETL_PERIOD_YEAR, 20210101, 20220101,
               "2193", "enterprise", ETL_Q_EXACT);
    expect_row(r[12], "000000", "", "cadres_exchanged", ETL_PERIOD_HALF, 20220101, 20220701,
               "2448", "person", ETL_Q_EXACT);
    expect_row(r[13], "440000", "", "poor_counties_delisted", ETL_PERIOD_RANGE, 20120101,
               20210101, "93", "county", ETL_Q_EXACT);
    expect_row(r[14], "000000", "", "poverty_labour_employed_growth", ETL_PERIOD_YEAR,
               20210101, 20220101, "12", "pct", ETL_Q_EXACT);
    expect_row(r[15], "450000", "", "enterprises_guided", ETL_PERIOD_YEAR, 20210101, 20220101,
               "12", "enterprise", ETL_Q_EXACT);
    free_stage(fx);
}

static void
test_pairs_and_codes(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[7];

    (void)state;
    batch.n = 0;
    r[0] = add_row("闽宁", "银川市", "财政援助资金", "2021", "5", "亿元");
    r[1] = add_row("川浙", NULL, "结对医院", "2021", "313家", NULL);
    r[2] = add_row("苏州", "铜仁", "结对学校", "2019", "10", NULL);
    r[3] = add_row("苏州", "铜仁", "结对学校", "2010", "10", NULL);
    r[4] = add_row("江苏", "522200", "结对学校", "2015", "10", NULL);
    r[5] = add_row("北京", "内蒙古", "结对学校", NULL, "356", NULL);
    r[6] = add_row("北京", "Inner Mongolia", "paired_hospitals", "2021", "269", NULL);
    run(fx);
    expect_row(r[0], "350000", "640100", "fiscal_aid_funds", ETL_PERIOD_YEAR, 20210101,
               20220101, "500000000", "CNY", ETL_Q_EXACT);
    expect_row(r[1], "330000", "510000", "paired_hospitals", ETL_PERIOD_YEAR, 20210101,
               20220101, "313", "hospital", ETL_Q_EXACT);
    expect_row(r[2], "320500", "520600", "paired_schools", ETL_PERIOD_YEAR, 20190101,
               20200101, "10", "school", ETL_Q_EXACT);
    /* before 2011-10-22 铜仁 was 铜仁地区 522200 */
    expect_row(r[3], "320500", "522200", "paired_schools", ETL_PERIOD_YEAR, 20100101,
               20110101, "10", "school", ETL_Q_EXACT);
    /* the old code used later maps to its successor */
    expect_row(r[4], "320000", "520600", "paired_schools", ETL_PERIOD_YEAR, 20150101,
               20160101, "10", "school", ETL_Q_EXACT);
    /* no period: left for validate */
    expect_row(r[5], "110000", "150000", "paired_schools", ETL_PERIOD_NONE, 0, 0, "356",
               "school", ETL_Q_EXACT);
    expect_row(r[6], "110000", "150000", "paired_hospitals", ETL_PERIOD_YEAR, 20210101,
               20220101, "269", "hospital", ETL_Q_EXACT);
    free_stage(fx);
}

static void
test_missing_and_qualifiers(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[6];

    (void)state;
    batch.n = 0;
    r[0] = add_row("全国", NULL, "实际到位投资额", "2021", "—", NULL);
    r[1] = add_row("全国", NULL, "实际到位投资额", "2021", "", "亿元");
    r[2] = add_row("全国", NULL, "实际到位投资额", "2021", NULL, NULL);
    r[3] = add_row("全国", NULL, "实际到位投资额", "2021", "约342亿元", NULL);
    r[4] = add_row("全国", NULL, "实际到位投资额", "2021", "342", "亿元");
    r[4]->qualifier = ETL_Q_ESTIMATE;       /* SDMX OBS_STATUS E, set by parse */
    r[5] = add_row("全国", NULL, "实际到位投资额", "2021", "342", "亿元");
    r[5]->qualifier = ETL_Q_LOWER;          /* stale: overwritten */
    run(fx);
    expect_row(r[0], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "", "CNY", ETL_Q_MISSING);
    expect_row(r[1], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "", "CNY", ETL_Q_MISSING);
    expect_row(r[2], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "", "CNY", ETL_Q_MISSING);
    expect_row(r[3], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "34200000000", "CNY", ETL_Q_APPROX);
    expect_row(r[4], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "34200000000", "CNY", ETL_Q_ESTIMATE);
    expect_row(r[5], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "34200000000", "CNY", ETL_Q_EXACT);
    free_stage(fx);
}

static void
test_rejections(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[16];
    char longv[80];

    (void)state;
    memset(longv, '9', 55);
    longv[55] = '\0';
    batch.n = 0;
    r[0] = add_row("火星", NULL, "实际到位投资额", "2021", "1", NULL);
    r[1] = add_row("北京", "卢旺达", "结对学校", "2021", "1", NULL);
    r[2] = add_row("六盘山", NULL, "结对学校", "2021", "1", NULL);
    r[3] = add_row("全国", NULL, "GDP", "2021", "1", NULL);
    r[4] = add_row("全国", NULL, "实际到位投资额", "2021", "abc", NULL);
    r[5] = add_row("全国", NULL, "实际到位投资额", "xyz", "1", NULL);
    r[6] = add_row("全国", NULL, "实际到位投资额", "今年", "1", NULL);
    r[7] = add_row("全国", NULL, "吸纳脱贫劳动力就业", "2021", "265万人次", NULL);
    r[8] = add_row("全国", NULL, "实际到位投资额", "2021", "5吨", NULL);
    r[9] = add_row("全国", NULL, "实际到位投资额", "2021", "78.6亿", "亿元");
    r[10] = add_row("全国", NULL, "实际到位投资额", "2021", longv, "万亿元");
    r[11] = add_row("全国", NULL, "结对学校", "2021", "12", "家");
    r[12] = add_row("全国", NULL, "实际到位投资额", "2021", "12", "kg");
    r[13] = add_row("全国", NULL, "实际到位投资额(吨)", "2021", "12", NULL);
    r[14] = add_row("全国", NULL, "实际到位投资额", "2021", "12%", NULL);
    /* already rejected by parse: untouched */
    r[15] = add_row("火星", NULL, NULL, NULL, NULL, NULL);
    r[15]->rejected = true;
    strcpy(r[15]->reason, "3 fields, expected 4");
    run(fx);
    expect_reject(r[0], "unknown region \"火星\"");
    assert_string_equal(r[0]->unmatched, "region");
    expect_reject(r[1], "unknown partner \"卢旺达\"");
    assert_string_equal(r[1]->unmatched, "partner");
    expect_reject(r[2], "unknown region \"六盘山\"");
    expect_reject(r[3], "unknown indicator \"GDP\"");
    expect_reject(r[4], "invalid number \"abc\"");
    assert_null(r[4]->unmatched);
    expect_reject(r[5], "invalid period \"xyz\"");
    expect_reject(r[6], "relative period \"今年\" needs the file's as-of date");
    expect_reject(r[7], "unit \"人次\" (person_time) does not fit indicator "
                        "poverty_labour_employed (person)");
    expect_reject(r[8], "unknown unit \"吨\"");
    expect_reject(r[9], "value \"78.6亿\" and unit \"亿元\" of the unit column both scale "
                        "the number");
    expect_reject(r[10], "value 9999999999999999999999999999999999999999999999999999999"
                         "×10^12 does not fit 63 characters");
    assert_string_equal(r[10]->value, "");
    expect_reject(r[11], "unit \"家\" (enterprise) of the unit column does not fit "
                         "indicator paired_schools (school)");
    expect_reject(r[12], "unknown unit \"kg\" in the unit column");
    expect_reject(r[13], "unknown unit \"吨\" in the indicator's name");
    expect_reject(r[14], "unit \"%\" (pct) does not fit indicator investment_in_place (CNY)");
    expect_reject(r[15], "3 fields, expected 4");
    assert_string_equal(r[15]->region, "999999");
    free_stage(fx);
}

/* A number in a notation files do not use is rejected for that, not its "unit". */
static void
test_notation_reasons(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[4];

    (void)state;
    batch.n = 0;
    r[0] = add_row("全国", NULL, "实际到位投资额", "2021", "1e309", NULL);
    r[1] = add_row("全国", NULL, "实际到位投资额", "2021", "0x10", "亿元");
    r[2] = add_row("全国", NULL, "实际到位投资额", "2021", "1.2.3", NULL);
    r[3] = add_row("全国", NULL, "实际到位投资额", "2021", "1,00,0", NULL);
    run(fx);
    expect_reject(r[0], "exponent notation is not accepted: \"1e309\"");
    expect_reject(r[1], "hexadecimal notation is not accepted: \"0x10\"");
    expect_reject(r[2], "more than one decimal point: \"1.2.3\"");
    expect_reject(r[3], "misplaced thousands separator: \"1,00,0\"");
    free_stage(fx);
}

/*
 * Units stated outside the row's own fields: the value column's header
 * ("数值（万元）"), the table's unit line or the YAML ("单位：亿元、个": a
 * word per kind of unit).  Each is applied; two that disagree reject the
 * row naming both; a number is never scaled twice.
 */
static void
test_units_outside_the_row(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[14];

    (void)state;
    batch.n = 0;
    /* the header's unit: 813 in 数值（亿元） is 81,300,000,000 yuan */
    r[0] = add_row("全国", NULL, "采购和帮助销售西部农副产品", "2021", "813", NULL);
    r[0]->unit_header = "亿元";
    r[0]->unit_header_of = "数值（亿元）";
    /* the unit line's words: the one that fits each indicator */
    r[1] = add_row("全国", NULL, "实际到位投资额", "2022H1", "3,423,000", NULL);
    r[1]->unit_default = "万元、个";
    r[1]->unit_default_from = "the unit line";
    r[2] = add_row("全国", NULL, "共建产业园区", "2021", "482", NULL);
    r[2]->unit_default = "万元、个";
    r[2]->unit_default_from = "the unit line";
    /* a default that fits nothing of the row is another column's */
    r[3] = add_row("全国", NULL, "新增引导企业", "2021", "2193", NULL);
    r[3]->unit_default = "万元";
    r[3]->unit_default_from = "the unit line";
    /* header and unit column disagree: a reject naming both */
    r[4] = add_row("全国", NULL, "实际到位投资额", "2021", "3", "亿元");
    r[4]->unit_header = "万元";
    r[4]->unit_header_of = "数值（万元）";
    /* header and unit line disagree */
    r[5] = add_row("全国", NULL, "实际到位投资额", "2021", "3", NULL);
    r[5]->unit_header = "万元";
    r[5]->unit_header_of = "数值（万元）";
    r[5]->unit_default = "亿元";
    r[5]->unit_default_from = "the unit line";
    /* a cell with its own unit that says the same as the header: once */
    r[6] = add_row("全国", NULL, "实际到位投资额", "2021", "220亿元", NULL);
    r[6]->unit_header = "亿元";
    r[6]->unit_header_of = "金额(亿元)";
    /* ... and one that says otherwise */
    r[7] = add_row("全国", NULL, "实际到位投资额", "2021", "220万元", NULL);
    r[7]->unit_header = "亿元";
    r[7]->unit_header_of = "金额(亿元)";
    /* a bare multiplier under a scaling header is ambiguous */
    r[8] = add_row("全国", NULL, "吸纳脱贫劳动力就业", "2021", "926.3万", NULL);
    r[8]->unit_header = "万人";
    r[8]->unit_header_of = "人数(万人)";
    /* a multiplier under a header that names the unit only: 9,263,000 persons */
    r[9] = add_row("全国", NULL, "吸纳脱贫劳动力就业", "2021", "926.3万", NULL);
    r[9]->unit_header = "人";
    r[9]->unit_header_of = "人数(人)";
    /* an unknown word in a header is a reject, not a unit dropped */
    r[10] = add_row("全国", NULL, "实际到位投资额", "2021", "1", NULL);
    r[10]->unit_header = "万吨";
    r[10]->unit_header_of = "数值(万吨)";
    /* a header unit that does not fit the indicator */
    r[11] = add_row("全国", NULL, "新增引导企业", "2021", "1", NULL);
    r[11]->unit_header = "亿元";
    r[11]->unit_header_of = "数值(亿元)";
    /* the YAML and the unit line both given: words of both, must agree */
    r[12] = add_row("全国", NULL, "实际到位投资额", "2021", "2", NULL);
    r[12]->unit_default = "亿元、万元";
    r[12]->unit_default_from = "the YAML and the unit line";
    /* the unit column says 万元 and the unit line 万元: agreed, once */
    r[13] = add_row("全国", NULL, "实际到位投资额", "2021", "2", "万元");
    r[13]->unit_default = "万元";
    r[13]->unit_default_from = "the unit line";
    run(fx);
    expect_row(r[0], "000000", "", "agri_products_sold", ETL_PERIOD_YEAR, 20210101, 20220101,
               "81300000000", "CNY", ETL_Q_EXACT);
    expect_row(r[1], "000000", "", "investment_in_place", ETL_PERIOD_HALF, 20220101,
               20220701, "34230000000", "CNY", ETL_Q_EXACT);
    expect_row(r[2], "000000", "", "industrial_parks_cobuilt", ETL_PERIOD_YEAR, 20210101,
               20220101, "482", "park", ETL_Q_EXACT);
    expect_row(r[3], "000000", "", "enterprises_guided", ETL_PERIOD_YEAR, 20210101,
               20220101, "2193", "enterprise", ETL_Q_EXACT);
    expect_reject(r[4], "unit \"亿元\" of the unit column disagrees with \"万元\" of the "
                        "header \"数值（万元）\"");
    expect_reject(r[5], "unit \"万元\" of the header \"数值（万元）\" disagrees with "
                        "\"亿元\" of the unit line");
    expect_row(r[6], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "22000000000", "CNY", ETL_Q_EXACT);
    expect_reject(r[7], "unit \"元\" of the value \"220万元\" disagrees with \"亿元\" of the "
                        "header \"金额(亿元)\"");
    expect_reject(r[8], "value \"926.3万\" and unit \"万人\" of the header \"人数(万人)\" "
                        "both scale the number");
    expect_row(r[9], "000000", "", "poverty_labour_employed", ETL_PERIOD_YEAR, 20210101,
               20220101, "9263000", "person", ETL_Q_EXACT);
    expect_reject(r[10], "unknown unit \"万吨\" in the header \"数值(万吨)\"");
    expect_reject(r[11], "unit \"亿元\" (CNY) of the header \"数值(亿元)\" does not fit "
                         "indicator enterprises_guided (enterprise)");
    expect_reject(r[12], "unit \"亿元\" of the YAML and the unit line disagrees with "
                         "\"万元\" of the YAML and the unit line");
    expect_row(r[13], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "20000", "CNY", ETL_Q_EXACT);
    free_stage(fx);
}

/* Wordings of press releases and tables, folded; never a guess. */
static void
test_wordings(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[4];

    (void)state;
    batch.n = 0;
    r[0] = add_row("全国", NULL, "新增引导企业数量（家）", "2022H1", "1,127", NULL);
    r[1] = add_row("全国", NULL, "互派挂职干部人数", "2022H1", "2448", NULL);
    r[2] = add_row("全国", NULL, "选派专业技术人才", "2022H1", "8520", NULL);
    r[3] = add_row("全国", NULL, "引导企业到位资金", "2022H1", "1", NULL);
    run(fx);
    expect_row(r[0], "000000", "", "enterprises_guided", ETL_PERIOD_HALF, 20220101, 20220701,
               "1127", "enterprise", ETL_Q_EXACT);
    expect_row(r[1], "000000", "", "cadres_exchanged", ETL_PERIOD_HALF, 20220101, 20220701,
               "2448", "person", ETL_Q_EXACT);
    expect_row(r[2], "000000", "", "technicians_exchanged", ETL_PERIOD_HALF, 20220101,
               20220701, "8520", "person", ETL_Q_EXACT);
    assert_true(r[3]->rejected);
    assert_non_null(strstr(r[3]->reason, "unknown indicator \"引导企业到位资金\""));
    assert_string_equal(r[3]->unmatched, "indicator");
    free_stage(fx);
}

static void
test_of_which(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[14];

    (void)state;
    batch.n = 0;
    r[0] = add_row("全国", NULL, "#其中:建档立卡脱贫劳动力", "2021", "100万", NULL);
    r[1] = add_row("全国", NULL, "# 吸纳脱贫劳动力就业", "2021", "5万", NULL);
    r[2] = add_row("全国", NULL, "＃吸纳脱贫劳动力就业", "2021", "5", NULL);
    r[3] = add_row("全国", NULL, "其中:吸纳脱贫劳动力就业", "2021", "5", NULL);
    r[4] = add_row("全国", NULL, "其中：吸纳脱贫劳动力就业", "2021", "5", NULL);
    r[5] = add_row("全国", NULL, "其中吸纳脱贫劳动力就业", "2021", "5", NULL);
    r[6] = add_row("全国", NULL, " 　#　其中： 建档立卡脱贫劳动力（万人） ", "2021", "1.5", NULL);
    r[7] = add_row("全国", NULL, "吸纳脱贫劳动力就业", "2021", "926.3万", NULL);
    r[7]->of_which = true;              /* stale, from the previous batch */
    /* an of-which item of the catalog without a marker is not a "#" row */
    r[8] = add_row("全国", NULL, "建档立卡脱贫劳动力", "2021", "100万", NULL);
    r[9] = add_row("全国", NULL, "#", "2021", "5", NULL);
    r[10] = add_row("全国", NULL, "#其中:GDP", "2021", "5", NULL);
    r[11] = add_row("全国", NULL, "其中：", "2021", "5", NULL);
    /* the marker first: a "#" inside the name is no marker */
    r[12] = add_row("全国", NULL, "吸纳#脱贫劳动力就业", "2021", "5", NULL);
    r[13] = add_row("全国", NULL, "##实际到位投资额", "2021", "5亿元", NULL);
    run(fx);
    expect_row(r[0], "000000", "", "registered_poor_labour_employed", ETL_PERIOD_YEAR,
               20210101, 20220101, "1000000", "person", ETL_Q_EXACT);
    assert_true(r[0]->of_which);
    expect_row(r[1], "000000", "", "poverty_labour_employed", ETL_PERIOD_YEAR, 20210101,
               20220101, "50000", "person", ETL_Q_EXACT);
    assert_true(r[1]->of_which);
    for (int i = 2; i <= 5; i++) {
        expect_row(r[i], "000000", "", "poverty_labour_employed", ETL_PERIOD_YEAR, 20210101,
                   20220101, "5", "person", ETL_Q_EXACT);
        assert_true(r[i]->of_which);
    }
    expect_row(r[6], "000000", "", "registered_poor_labour_employed", ETL_PERIOD_YEAR,
               20210101, 20220101, "15000", "person", ETL_Q_EXACT);
    assert_true(r[6]->of_which);
    expect_row(r[7], "000000", "", "poverty_labour_employed", ETL_PERIOD_YEAR, 20210101,
               20220101, "9263000", "person", ETL_Q_EXACT);
    assert_false(r[7]->of_which);
    expect_row(r[8], "000000", "", "registered_poor_labour_employed", ETL_PERIOD_YEAR,
               20210101, 20220101, "1000000", "person", ETL_Q_EXACT);
    assert_false(r[8]->of_which);
    expect_reject(r[9], "unknown indicator \"#\"");
    expect_reject(r[10], "unknown indicator \"#其中:GDP\"");
    expect_reject(r[11], "unknown indicator \"其中：\"");
    expect_reject(r[12], "unknown indicator \"吸纳#脱贫劳动力就业\"; did you mean "
                         "poverty_labour_employed (吸纳西部脱贫劳动力就业)?");
    assert_string_equal(r[12]->unmatched, "indicator");
    expect_row(r[13], "000000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101,
               20220101, "500000000", "CNY", ETL_Q_EXACT);
    assert_true(r[13]->of_which);
    free_stage(fx);

    /* strict: the marker is still dropped, the name must be exact */
    fx = make_stage("catalog_strict: true\n", &err);
    batch.n = 0;
    r[0] = add_row("全国", NULL, "# 吸纳脱贫劳动力就业", "2021", "5", NULL);
    r[1] = add_row("全国", NULL, "# 吸纳 脱贫劳动力就业", "2021", "5", NULL);
    run(fx);
    expect_row(r[0], "000000", "", "poverty_labour_employed", ETL_PERIOD_YEAR, 20210101,
               20220101, "5", "person", ETL_Q_EXACT);
    assert_true(r[0]->of_which);
    expect_reject(r[1], "unknown indicator \"# 吸纳 脱贫劳动力就业\"; did you mean "
                        "poverty_labour_employed (吸纳西部脱贫劳动力就业)?");
    free_stage(fx);
}

/*
 * Not a test of speed (nothing is asserted about time): normalize and
 * validate chained over batches of typical rows, to print the cost per row
 * (DESIGN.md: well under PostgreSQL's 0.9 µs; the aim here is 0.3 µs).
 * The rows must come out right after many passes over the same batch.
 */
static void
test_throughput(void **state)
{
    static const char *const rows[][6] = {
        { "全国", NULL, "吸纳脱贫劳动力就业", "2021", "926.3万", NULL },
        { "广东", NULL, "贫困人口脱贫", "2012年至2020年", "500多万", NULL },
        { "京蒙", NULL, "结对学校", "2021", "468", "所" },
        { "全国", NULL, "实际到位投资额（亿元）", "2022H1", "342.3", NULL },
        { "苏州", "铜仁", "结对学校", "2019", "10", NULL },
        { "广西壮族自治区", NULL, "引导企业投资", "2021年", "２，１９３", NULL },
        { "全国", NULL, "# 吸纳脱贫劳动力就业", "2022年1—6月", "1,005.4", "万人" },
        { "闽宁", "银川市", "财政援助资金", "2021", "5", "亿元" },
    };
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct fixture vfx;
    struct etl_doc *vdoc;
    struct etl_job job;
    struct etl_chunk chunk = etl_chunk_rows(&batch);
    struct timespec t0, t1;
    /* EWC_PASSES=4000 for a steadier figure (perf record, callgrind) */
    const int passes = getenv("EWC_PASSES") != NULL && atoi(getenv("EWC_PASSES")) > 0 ?
                       atoi(getenv("EWC_PASSES")) : 40;
    double ns;

    (void)state;
    memset(&vfx, 0, sizeof(vfx));
    memset(&job, 0, sizeof(job));
    vdoc = etl_doc_parse("v.yaml", "ranges: {fiscal_aid_funds: {max: 1e13}}\n", 40, &err);
    assert_non_null(vdoc);
    vfx.st.kind = &etl_stage_validate;
    vfx.st.name = (char *)"validate";
    vfx.st.pipeline = &pl;
    vfx.st.next = &test_record_stage;
    vfx.st.job = &job;
    assert_int_equal(etl_stage_validate.configure(&vfx.st, vdoc->root, &err), 0);
    assert_int_equal(etl_stage_validate.begin(&vfx.st, &err), 0);
    fx->st.next = &vfx.st;

    batch.n = 0;
    for (size_t i = 0; i < ETL_BATCH_ROWS; i++) {
        const char *const *r = rows[i % (sizeof(rows) / sizeof(rows[0]))];

        add_row(r[0], r[1], r[2], r[3], r[4], r[5]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int p = 0; p < passes; p++) {
        assert_int_equal(etl_stage_normalize.process(&fx->st, &chunk, &err), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
         ((double)passes * ETL_BATCH_ROWS);
    print_message("normalize + validate: %.0f ns/row (%d rows)\n", ns,
                  passes * ETL_BATCH_ROWS);
    for (size_t i = 0; i < batch.n; i++) {
        if (batch.rows[i].rejected) {
            fail_msg("row %zu rejected: %s", i, batch.rows[i].reason);
        }
    }
    expect_row(&batch.rows[6], "000000", "", "poverty_labour_employed", ETL_PERIOD_MONTHS,
               20220101, 20220701, "10054000", "person", ETL_Q_EXACT);
    assert_true(batch.rows[6].of_which);
    assert_int_equal(etl_stage_validate.finish(&vfx.st, &verdict, &err), 0);
    assert_int_equal(verdict.kind, ETL_VERDICT_OK);
    etl_stage_validate.destroy(&vfx.st);
    etl_doc_free(vdoc);
    free_stage(fx);
}

static void
test_long_texts_are_cut(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r;
    char name[200];

    (void)state;
    /* 30 x 火 (90 bytes): the quote stops at 60 bytes, between characters */
    name[0] = '\0';
    for (int i = 0; i < 30; i++) {
        strcat(name, "火");
    }
    batch.n = 0;
    r = add_row(name, NULL, "实际到位投资额", "2021", "1", NULL);
    run(fx);
    expect_reject(r, "unknown region \"火火火火火火火火火火火火火火火火火火火火\"");
    free_stage(fx);
}

static void
test_as_of_and_strict(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("as_of: 2022-08-01\n", &err);
    struct fixture *strict;
    struct etl_row *r[5];

    (void)state;
    assert_non_null(fx);
    batch.n = 0;
    r[0] = add_row("全国", NULL, "实际到位投资额", "今年上半年", "342.3亿元", NULL);
    r[1] = add_row("全国", NULL, "实际到位投资额", "1-7月", "1", NULL);
    r[2] = add_row("广西省", NULL, "实际到位投资额", "2021", "1", NULL);
    r[3] = add_row("全国", NULL, "吸纳（西部）脱贫劳动力就业", "2021", "1", NULL);
    r[4] = add_row("银川", NULL, "吸纳 脱贫劳动力 就业（万人）", "2021", "1", NULL);
    run(fx);
    expect_row(r[0], "000000", "", "investment_in_place", ETL_PERIOD_HALF, 20220101, 20220701,
               "34230000000", "CNY", ETL_Q_EXACT);
    expect_row(r[1], "000000", "", "investment_in_place", ETL_PERIOD_MONTHS, 20220101,
               20220801, "1", "CNY", ETL_Q_EXACT);
    expect_row(r[2], "450000", "", "investment_in_place", ETL_PERIOD_YEAR, 20210101, 20220101,
               "1", "CNY", ETL_Q_EXACT);
    expect_row(r[3], "000000", "", "poverty_labour_employed", ETL_PERIOD_YEAR, 20210101,
               20220101, "1", "person", ETL_Q_EXACT);
    expect_row(r[4], "640100", "", "poverty_labour_employed", ETL_PERIOD_YEAR, 20210101,
               20220101, "10000", "person", ETL_Q_EXACT);
    free_stage(fx);

    strict = make_stage("catalog_strict: true\n", &err);
    assert_non_null(strict);
    batch.n = 0;
    r[0] = add_row("广西省", NULL, "实际到位投资额", "2021", "1", NULL);
    r[1] = add_row("全国", NULL, "吸纳（西部）脱贫劳动力就业", "2021", "1", NULL);
    r[2] = add_row("广西", NULL, "实际到位投资额", "1-7月", "1", NULL);
    run(strict);
    expect_reject(r[0], "unknown region \"广西省\"");
    expect_reject(r[1], "unknown indicator \"吸纳（西部）脱贫劳动力就业\"; did you mean "
                        "poverty_labour_employed (吸纳西部脱贫劳动力就业)?");
    expect_reject(r[2], "relative period \"1-7月\" needs the file's as-of date");
    free_stage(strict);
}

static void
test_finish_and_empty_batch(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);

    (void)state;
    batch.n = 0;
    run(fx);
    test_record.finished = 0;
    etl_err_clear(&err);
    assert_int_equal(etl_stage_normalize.finish(&fx->st, &verdict, &err), 0);
    assert_int_equal(test_record.finished, 1);
    /* at the end of a chain */
    fx->st.next = NULL;
    assert_int_equal(etl_stage_normalize.finish(&fx->st, &verdict, &err), 0);
    assert_int_equal(test_record.finished, 1);
    free_stage(fx);
}

/*
 * A total row (合计, parse marks it and names it 全国) is the nation's in a
 * table of provinces, the province's in a table of one province's cities;
 * a total read before the rows that show otherwise refuses the file.
 */
static void
test_total_rows(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_row *r[4];

    (void)state;
    /* cities of 广东, then the total: 广东's figure */
    assert_int_equal(etl_stage_normalize.begin(&fx->st, &err), 0);
    batch.n = 0;
    r[0] = add_row("广州市", NULL, "引导企业", "2021", "10", NULL);
    r[1] = add_row("佛山市", NULL, "引导企业", "2021", "5", NULL);
    r[2] = add_row("全国", NULL, "引导企业", "2021", "15", NULL);
    r[2]->total = true;
    run(fx);
    assert_string_equal(r[0]->region, "440100");
    assert_string_equal(r[2]->region, "440000");
    memset(&verdict, 0, sizeof(verdict));
    assert_int_equal(etl_stage_normalize.finish(&fx->st, &verdict, &err), 0);
    assert_int_equal(verdict.kind, ETL_VERDICT_OK);

    /* provinces: the nation's */
    assert_int_equal(etl_stage_normalize.begin(&fx->st, &err), 0);
    batch.n = 0;
    r[0] = add_row("广东", NULL, "引导企业", "2021", "10", NULL);
    r[1] = add_row("广州市", NULL, "引导企业", "2021", "5", NULL);
    r[2] = add_row("全国", NULL, "引导企业", "2021", "15", NULL);
    r[2]->total = true;
    run(fx);
    assert_string_equal(r[2]->region, "000000");
    assert_int_equal(etl_stage_normalize.finish(&fx->st, &verdict, &err), 0);
    assert_int_equal(verdict.kind, ETL_VERDICT_OK);

    /* the total first, then one province's cities: refused, never misplaced */
    assert_int_equal(etl_stage_normalize.begin(&fx->st, &err), 0);
    batch.n = 0;
    r[0] = add_row("全国", NULL, "引导企业", "2021", "15", NULL);
    r[0]->total = true;
    r[1] = add_row("广州市", NULL, "引导企业", "2021", "10", NULL);
    r[2] = add_row("佛山市", NULL, "引导企业", "2021", "5", NULL);
    run(fx);
    assert_string_equal(r[0]->region, "000000");
    assert_int_equal(etl_stage_normalize.finish(&fx->st, &verdict, &err), 0);
    assert_int_equal(verdict.kind, ETL_VERDICT_REFUSED);
    assert_string_equal(verdict.reason, "the total row at line 2 was read as region 000000, "
                        "but the table's rows are those of region 440000: set total_region "
                        "for this source");

    /* the YAML's region stands whatever the rows */
    assert_int_equal(etl_stage_normalize.begin(&fx->st, &err), 0);
    memset(&verdict, 0, sizeof(verdict));
    batch.n = 0;
    r[0] = add_row("广东", NULL, "引导企业", "2021", "15", NULL);
    r[0]->total = true;
    r[0]->total_given = true;
    r[1] = add_row("广州市", NULL, "引导企业", "2021", "10", NULL);
    run(fx);
    assert_string_equal(r[0]->region, "440000");
    assert_int_equal(etl_stage_normalize.finish(&fx->st, &verdict, &err), 0);
    assert_int_equal(verdict.kind, ETL_VERDICT_OK);
    free_stage(fx);
}

/* normalize takes row batches: a byte chunk is an internal error. */
static void
test_chunk_type(void **state)
{
    struct etl_err err;
    struct fixture *fx = make_stage("{}", &err);
    struct etl_chunk chunk = { .bytes = "a,b\n", .len = 4 };

    (void)state;
    test_record.batches = 0;
    etl_err_clear(&err);
    assert_int_equal(etl_stage_normalize.process(&fx->st, &chunk, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "stage normalize (normalize) expects rows, not bytes");
    assert_int_equal(test_record.batches, 0);
    /* a chunk of a type nobody here knows */
    {
        static const struct etl_chunk_type other = { .name = "cells" };
        struct etl_chunk c = { .type = &other, .data = &batch, .len = 1 };

        etl_err_clear(&err);
        assert_int_equal(etl_stage_normalize.process(&fx->st, &c, &err), -1);
        assert_string_equal(err.msg, "stage normalize (normalize) expects rows, not cells");
    }
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
    assert_int_equal(etl_stage_normalize.process(&fx->st, &chunk, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "stage normalize has no catalog");
    cfg.nresources = 1;
    res.ptr = cat;
    free_stage(fx);
}

static void
test_config_errors(void **state)
{
    struct etl_err err;

    (void)state;
    assert_null(make_stage("as_of: 2022-13-01\n", &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "as_of \"2022-13-01\" is not a date (YYYY-MM-DD)");
    assert_string_equal(err.where, "test.yaml:1:8");

    assert_null(make_stage("as_of: [2022]\n", &err));
    assert_string_equal(err.msg, "\"as_of\" must be a string");
    assert_string_equal(err.where, "test.yaml:1:8");

    assert_null(make_stage("catalog_strict: maybe\n", &err));
    assert_string_equal(err.msg, "\"catalog_strict\" must be true or false");
    assert_string_equal(err.where, "test.yaml:1:17");

    assert_null(make_stage("as_off: 2022-01-01\n", &err));
    assert_string_equal(err.msg, "unknown key \"as_off\" in stage");
    assert_string_equal(err.where, "test.yaml:1:1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_figures),
        cmocka_unit_test(test_pairs_and_codes),
        cmocka_unit_test(test_missing_and_qualifiers),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_notation_reasons),
        cmocka_unit_test(test_units_outside_the_row),
        cmocka_unit_test(test_wordings),
        cmocka_unit_test(test_of_which),
        cmocka_unit_test(test_throughput),
        cmocka_unit_test(test_long_texts_are_cut),
        cmocka_unit_test(test_as_of_and_strict),
        cmocka_unit_test(test_finish_and_empty_batch),
        cmocka_unit_test(test_total_rows),
        cmocka_unit_test(test_chunk_type),
        cmocka_unit_test(test_no_catalog),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
