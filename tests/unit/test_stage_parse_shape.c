/*
 * test_stage_parse_shape.c
 *    Tables as agencies print them, through the parse_csv stage with the
 *    bundled catalog: the header found below a title, a unit line and the
 *    statistics portal's 数据库：/指标：/时间： lines; footnotes kept as notes,
 *    never rows; wide tables by indicator and by period columns, detected
 *    and declared; total rows (合计) as the national figure; of-which
 *    markers in the region column; units in headers, unit lines and the
 *    YAML handed on with every row; the YAML's constants; and what is an
 *    error: no header in the first records, a unit that a mapped column
 *    would drop.
 *
 *    Rows are rendered one per line:
 *        <line>|<col>=<value>;...[of;][total;][uh=<unit>@<header>;]
 *               [ud=<units>@<from>;]|<reason>
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "etl/config.h"
#include "etl/ewc/catalog.h"
#include "etl/ewc/row.h"
#include "etl/pipeline.h"
#include "etl/resource.h"
#include "etl/stage.h"
#include "stages/parse.h"
#include "support.h"

extern const struct etl_stage_kind etl_stage_parse_csv;

static struct etl_catalog *cat;
static struct etl_config cfg;
static struct etl_resource res = { .name = "catalog" };
static struct etl_pipeline pl;
static struct etl_verdict verdict;

/* ---- the recording next stage ------------------------------------------ */

static char out[16384];
static size_t out_len;

static void
put(const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(out + out_len, sizeof(out) - out_len, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < sizeof(out) - out_len);
    out_len += (size_t)k;
}

static int
rec_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct etl_batch *batch = in->data;

    (void)st;
    (void)err;
    assert_ptr_equal(in->type, &etl_chunk_rows_type);
    for (size_t i = 0; i < batch->n; i++) {
        const struct etl_row *row = &batch->rows[i];

        assert_int_equal(strlen(row->raw), row->raw_len);
        put("%lu|", row->line);
        for (int c = 0; c < ETL_NCOLS; c++) {
            if (row->f[c] != NULL) {
                put("%s=%s;", etl_col_names[c], row->f[c]);
            }
        }
        if (row->of_which_mark) {
            put("of;");
        }
        if (row->total) {
            put("total;");
        }
        if (row->unit_header != NULL) {
            put("uh=%s@%s;", row->unit_header, row->unit_header_of);
        }
        if (row->unit_default != NULL) {
            put("ud=%s@%s;", row->unit_default, row->unit_default_from);
        }
        put("|%s\n", row->rejected ? row->reason : "");
    }
    return 0;
}

static int
rec_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    (void)st;
    (void)v;
    (void)err;
    put("end\n");
    return 0;
}

static const struct etl_stage_kind recorder_kind = {
    .name = "recorder",
    .consumes = ETL_FLOW_ROWS,
    .produces = ETL_FLOW_ROWS,
    .process = rec_process,
    .finish = rec_finish,
};

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    struct etl_doc *doc;
    struct etl_stage st, next;
    struct etl_job job;
    struct etl_file file;
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

static int
fx_open(struct fx *f, const char *yaml, struct etl_err *err)
{
    memset(f, 0, sizeof(*f));
    etl_err_clear(err);
    f->doc = etl_doc_parse("t.yaml", yaml, strlen(yaml), err);
    assert_non_null(f->doc);
    f->st.kind = &etl_stage_parse_csv;
    f->st.name = "parse";
    f->st.node = f->doc->root;
    f->st.pipeline = &pl;
    f->st.next = &f->next;
    f->next.kind = &recorder_kind;
    f->next.name = "next";
    f->file.url = "http://example.org/t.csv";
    f->job.file = &f->file;
    f->st.job = &f->job;
    f->next.job = &f->job;
    if (etl_node_check(f->doc->root, etl_stage_parse_csv.keys,
                       "stage \"parse\" (parse_csv)", err) < 0) {
        return -1;
    }
    return etl_stage_parse_csv.configure(&f->st, f->doc->root, err);
}

static void
fx_close(struct fx *f)
{
    etl_stage_parse_csv.destroy(&f->st);
    etl_doc_free(f->doc);
}

/* One file through the stage in pieces of 'piece' bytes (0: whole). */
static int
fx_run(struct fx *f, const char *text, size_t piece, struct etl_err *err)
{
    size_t n = strlen(text), pos = 0;

    etl_err_clear(err);
    out_len = 0;
    out[0] = '\0';
    if (etl_stage_parse_csv.begin(&f->st, err) < 0) {
        return -1;
    }
    while (pos < n) {
        size_t k = piece == 0 || piece > n - pos ? n - pos : piece;
        struct etl_chunk c = { .bytes = text + pos, .len = k };

        if (etl_stage_parse_csv.process(&f->st, &c, err) < 0) {
            etl_stage_parse_csv.abort(&f->st);
            return -1;
        }
        pos += k;
    }
    if (etl_stage_parse_csv.finish(&f->st, &verdict, err) < 0) {
        etl_stage_parse_csv.abort(&f->st);
        return -1;
    }
    return 0;
}

/* The rows of 'text' (whole, and in pieces of 1 and 5 bytes: the same). */
static void
check(const char *yaml, const char *text, const char *want)
{
    static const size_t pieces[] = { 0, 1, 5 };
    struct fx f;
    struct etl_err err;

    assert_int_equal(fx_open(&f, yaml, &err), 0);
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        if (fx_run(&f, text, pieces[i], &err) < 0) {
            fail_msg("file failed: %s (%s)", err.msg, err.where);
        }
        assert_string_equal(out, want);
    }
    fx_close(&f);
}

static void
check_file_error(const char *yaml, const char *text, const char *msg, const char *where)
{
    struct fx f;
    struct etl_err err;

    assert_int_equal(fx_open(&f, yaml, &err), 0);
    assert_int_equal(fx_run(&f, text, 0, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, where);
    fx_close(&f);
}

/* ---- tests -------------------------------------------------------------- */

/* Title, unit line, header, rows, a total, footnotes: a long table. */
static void
test_printed_long_table(void **state)
{
    (void)state;
    check("{}",
          "2022年上半年东西部协作财政援助资金情况\n"
          "单位：亿元\n"
          "\n"
          "地区,指标,数值\n"
          "广东,实际投入财政援助资金,20\n"
          "浙江,实际投入财政援助资金,15\n"
          ",,\n"
          "合计,实际投入财政援助资金,35\n"
          "注：数据为快报数。\n"
          "数据来源：国家乡村振兴局\n",
          "5|region=广东;indicator=实际投入财政援助资金;period=2022年上半年;value=20;"
          "ud=亿元@the unit line;|\n"
          "6|region=浙江;indicator=实际投入财政援助资金;period=2022年上半年;value=15;"
          "ud=亿元@the unit line;|\n"
          "8|region=全国;indicator=实际投入财政援助资金;period=2022年上半年;value=35;"
          "total;ud=亿元@the unit line;|\n"
          "end\n");
}

/* The file's notes: the preamble and the footnotes, one per line. */
static void
test_notes(void **state)
{
    struct fx f;
    struct etl_err err;
    const struct parse *ps;

    (void)state;
    assert_int_equal(fx_open(&f, "{}", &err), 0);
    assert_int_equal(fx_run(&f, "表1 2021年主要指标\n单位:万元\n地区,指标,数值\n"
                            "广东,实际到位投资额,1\n注1：含社会资金\n资料来源：统计公报\n",
                            0, &err), 0);
    ps = f.st.ctx;
    assert_string_equal(ps->notes, "表1 2021年主要指标\n单位:万元\n注1：含社会资金\n"
                                   "资料来源：统计公报\n");
    /* the title's period, found after "表1" */
    if (strstr(out, "period=2021年;") == NULL) {
        fail_msg("no period from the title: %s", out);
    }
    fx_close(&f);
}

/* One column per indicator, its unit in brackets; detected from the header. */
static void
test_wide_by_indicator(void **state)
{
    (void)state;
    check("{}",
          "2021年东西部协作主要指标\n"
          "地区,新增引导企业(家),共建产业园区（个）,采购和帮助销售西部农副产品(亿元),备注\n"
          "北京,100,20,50,x\n"
          "上海,120,,60.5,\n"
          "其中：浦东,10,—,,\n"
          "合计,2193,482,813,\n",
          "3|region=北京;indicator=新增引导企业(家);period=2021年;value=100;note=x;"
          "uh=家@新增引导企业(家);|\n"
          "3|region=北京;indicator=共建产业园区（个）;period=2021年;value=20;note=x;"
          "uh=个@共建产业园区（个）;|\n"
          "3|region=北京;indicator=采购和帮助销售西部农副产品(亿元);period=2021年;value=50;"
          "note=x;uh=亿元@采购和帮助销售西部农副产品(亿元);|\n"
          "4|region=上海;indicator=新增引导企业(家);period=2021年;value=120;note=;"
          "uh=家@新增引导企业(家);|\n"
          "4|region=上海;indicator=采购和帮助销售西部农副产品(亿元);period=2021年;"
          "value=60.5;note=;uh=亿元@采购和帮助销售西部农副产品(亿元);|\n"
          "5|region=浦东;indicator=新增引导企业(家);period=2021年;value=10;note=;of;"
          "uh=家@新增引导企业(家);|\n"

          "6|region=全国;indicator=新增引导企业(家);period=2021年;value=2193;note=;total;"
          "uh=家@新增引导企业(家);|\n"
          "6|region=全国;indicator=共建产业园区（个）;period=2021年;value=482;note=;total;"
          "uh=个@共建产业园区（个）;|\n"
          "6|region=全国;indicator=采购和帮助销售西部农副产品(亿元);period=2021年;"
          "value=813;note=;total;uh=亿元@采购和帮助销售西部农副产品(亿元);|\n"
          "end\n");
}

/* The statistics portal's download: years as columns, the indicator above. */
static void
test_wide_by_period(void **state)
{
    (void)state;
    check("{}",
          "数据库：年度数据\n"
          "指标：新增引导企业(家)\n"
          "时间：最近3年\n"
          "地区,2022年,2021年,2020\n"
          "广东,100,90,\n"
          "北京,50,—,40\n"
          "数据来源：国家统计局\n",
          "5|region=广东;indicator=新增引导企业(家);period=2022年;value=100;|\n"
          "5|region=广东;indicator=新增引导企业(家);period=2021年;value=90;|\n"
          "6|region=北京;indicator=新增引导企业(家);period=2022年;value=50;|\n"

          "6|region=北京;indicator=新增引导企业(家);period=2020;value=40;|\n"
          "end\n");
}

/* Declared wide: any named column is a value column; constants from the YAML. */
static void
test_wide_declared(void **state)
{
    (void)state;
    check("{layout: wide, period: 2021, ignore: [备注]}",
          "地区,学校,医院,备注\n"
          "京蒙,468,313,x\n",
          "2|region=京蒙;indicator=学校;period=2021;value=468;note=x;|\n"
          "2|region=京蒙;indicator=医院;period=2021;value=313;note=x;|\n"
          "end\n");
}

/* A long table forced: value columns are not looked for. */
static void
test_long_declared(void **state)
{
    (void)state;
    check_file_error("{layout: long}",
                     "地区,2021年,2022年\n广东,1,2\n",
                     "missing column \"indicator\" (expected a header named one of: "
                     "指标, indicator, 指标名称)",
                     "line 1");
}

/* The unit of the value column's header, configured or not, goes with each row. */
static void
test_unit_in_value_header(void **state)
{
    (void)state;
    check("{}",
          "地区,指标,时期,数值（万元）\n全国,实际到位投资额,2022H1,3423000\n",
          "2|region=全国;indicator=实际到位投资额;period=2022H1;value=3423000;"
          "uh=万元@数值（万元）;|\nend\n");
    /* what a user maps with columns: as the old error message invited */
    check("{columns: {value: 数值（万元）}}",
          "地区,指标,时期,数值（万元）\n全国,实际到位投资额,2022H1,3423000\n",
          "2|region=全国;indicator=实际到位投资额;period=2022H1;value=3423000;"
          "uh=万元@数值（万元）;|\nend\n");
    /* the YAML's unit and the unit line both: normalize weighs both */
    check("{unit: 亿元}",
          "单位：万元\n地区,指标,时期,数值\n全国,实际到位投资额,2022H1,3\n",
          "3|region=全国;indicator=实际到位投资额;period=2022H1;value=3;"
          "ud=亿元、万元@the YAML and the unit line;|\nend\n");
}

/* Of-which markers in the region or partner column; a heading row alone. */
static void
test_of_which_labels(void **state)
{
    (void)state;
    check("{}",
          "地区,结对地区,指标,时期,数值\n"
          "广东,广西,吸纳脱贫劳动力就业,2021,10\n"
          "其中：\n"
          "# 广州,广西,吸纳脱贫劳动力就业,2021,3\n"
          "广东,其中:百色,吸纳脱贫劳动力就业,2021,1\n"
          "广东,合计,吸纳脱贫劳动力就业,2021,12\n",
          "2|region=广东;partner=广西;indicator=吸纳脱贫劳动力就业;period=2021;value=10;|\n"
          "4|region=广州;partner=广西;indicator=吸纳脱贫劳动力就业;period=2021;value=3;of;|\n"
          "5|region=广东;partner=百色;indicator=吸纳脱贫劳动力就业;period=2021;value=1;of;|\n"
          "6|region=广东;partner=;indicator=吸纳脱贫劳动力就业;period=2021;value=12;total;|\n"
          "end\n");
}

/* The region of a total row is the YAML's when the table is one province's. */
static void
test_total_region(void **state)
{
    (void)state;
    check("{total_region: 广东}",
          "地区,指标,时期,数值\n广州,引导企业,2021,1\n总 计,引导企业,2021,5\n",
          "2|region=广州;indicator=引导企业;period=2021;value=1;|\n"
          "3|region=广东;indicator=引导企业;period=2021;value=5;total;|\n"
          "end\n");
}

/* No header among the first records: why the best candidate was none. */
static void
test_no_header(void **state)
{
    (void)state;
    check_file_error("{}",
                     "东西部协作情况\n地区,指标,数量\n广东,引导企业,1\n",
                     "missing column \"period\" (expected a header named one of: 时期, "
                     "period, 年份, time, 时间)",
                     "line 2");
    check_file_error("{}", "\n\n", "no header: the file is empty", "line 1");
}

/* JSON from an open-data portal: the same header mapping and rows. */
static void
test_json_records(void **state)
{
    (void)state;
    check("{}",
          "\n[{\"地区\": \"广东\", \"指标\": \"新增引导企业\", \"时期\": \"2021\", "
          "\"数值\": 1127},\n {\"数值\": \"342.30\", \"地区\": \"全国\", "
          "\"指标\": \"实际到位投资额(亿元)\", \"时期\": \"2022H1\"}]\n",
          "2|region=广东;indicator=新增引导企业;period=2021;value=1127;|\n"
          "3|region=全国;indicator=实际到位投资额(亿元);period=2022H1;value=342.30;|\n"
          "end\n");
    /* the records at a path, a wide layout inside */
    check("{records: data.list, period: 2021}",
          "{\"code\": 0, \"data\": {\"list\": [\n"
          "  {\"地区\": \"北京\", \"结对学校(所)\": 356, \"结对医院(家)\": 269}\n]}}",
          "2|region=北京;indicator=结对学校(所);period=2021;value=356;uh=所@结对学校(所);|\n"
          "2|region=北京;indicator=结对医院(家);period=2021;value=269;uh=家@结对医院(家);|\n"
          "end\n");
    /* a key the first record did not have: the row is rejected, not trimmed */
    check("{}",
          "[{\"地区\":\"广东\",\"指标\":\"引导企业\",\"时期\":\"2021\",\"数值\":1},"
          "{\"地区\":\"广东\",\"指标\":\"引导企业\",\"时期\":\"2022\",\"数值\":2,\"单位\":\"万家\"}]",
          "1|region=广东;indicator=引导企业;period=2021;value=1;|\n"
          "1|region=广东;indicator=引导企业;period=2022;value=2;|key \"单位\" is not in the "
          "first record's keys\n"
          "end\n");
    check_file_error("{}", "{\"code\": 0, \"data\": []}",
                     "the JSON is an object, not an array of records", "line 1");
}

/* An HTML page served instead of a file is called that. */
static void
test_html_page(void **state)
{
    (void)state;
    check_file_error("{}", "\r\n  <!DOCTYPE html><html><body>登录</body></html>",
                     "the file is an HTML page, not a data file", "line 2");
    check_file_error("{}", "<?xml version=\"1.0\"?><a/>",
                     "the file is an HTML or XML document, not a data file", "line 1");
    /* declared CSV: read as CSV (and then no header is found) */
    check_file_error("{format: csv}", "<html>\n", "missing column \"region\" (expected a "
                     "header named one of: 地区, region, 省份, 省(区、市))", "line 1");
}

/* A mapped header name whose unit the column would drop: a check-time error. */
static void
test_config_unit_dropped(void **state)
{
    struct fx f;
    struct etl_err err;

    (void)state;
    assert_int_equal(fx_open(&f, "{columns: {indicator: 指标（万元）}}", &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "header name \"指标（万元）\" for column \"indicator\" "
                        "carries the unit \"万元\", which that column cannot apply");
    assert_string_equal(err.where, "t.yaml:1:23");
    fx_close(&f);
    /* a bracket that is no unit is a name like any other */
    assert_int_equal(fx_open(&f, "{columns: {indicator: 指标（名称）}}", &err), 0);
    fx_close(&f);
    assert_int_equal(fx_open(&f, "{layout: sideways}", &err), -1);
    assert_string_equal(err.msg, "unknown layout \"sideways\" (expected auto, long or wide)");
    fx_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printed_long_table),
        cmocka_unit_test(test_notes),
        cmocka_unit_test(test_wide_by_indicator),
        cmocka_unit_test(test_wide_by_period),
        cmocka_unit_test(test_wide_declared),
        cmocka_unit_test(test_long_declared),
        cmocka_unit_test(test_unit_in_value_header),
        cmocka_unit_test(test_of_which_labels),
        cmocka_unit_test(test_total_region),
        cmocka_unit_test(test_no_header),
        cmocka_unit_test(test_json_records),
        cmocka_unit_test(test_html_page),
        cmocka_unit_test(test_config_unit_dropped),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
