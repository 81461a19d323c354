/*
 * test_stage_parse.c
 *    The parse_csv stage driven directly: configured from YAML text, begun
 *    with a fake job, fed bytes, its rows caught by a recording "next"
 *    stage.  Header mapping (Chinese, English, full-width, "columns:"),
 *    exact rows, line numbers, raw texts and rejects, blank records, file
 *    errors with their 'where', configuration errors, batching, abort and
 *    reuse, and a million rows in bounded memory.
 *
 *    SDMX-CSV 1.0 and 2.0: detection, column IDs, labels, ACTION,
 *    OBS_STATUS, UNIT_MULT, and their rejects and file errors.
 *
 *    Rows are rendered one per line:
 *        <line>|<raw>|<col>=<value>;...[q=<qualifier>;][deleted;]|<reason>
 *    with CR and LF shown as \r and \n; the reason only if rejected, the
 *    qualifier only if not exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "etl/config.h"
#include "etl/csv.h"
#include "etl/pipeline.h"
#include "etl/ewc/row.h"
#include "etl/stage.h"
#include "stages/parse.h"

extern const struct etl_stage_kind etl_stage_parse_csv;

/* ---- the recording next stage ------------------------------------------ */

struct recorder {
    char *s;
    size_t n, cap;
    bool quiet;                 /* count only */
    size_t rows, batches, finishes, rejected;
    size_t max_batch;
    unsigned long last_line;
    long fail_batch;            /* refuse this batch (1-based) */
    bool fail_finish;
};

static void
rec_add(struct recorder *r, const char *p, size_t n)
{
    if (r->n + n + 1 > r->cap) {
        r->cap = (r->n + n + 1) * 2;
        r->s = realloc(r->s, r->cap);
        assert_non_null(r->s);
    }
    memcpy(r->s + r->n, p, n);
    r->n += n;
    r->s[r->n] = '\0';
}

static void
rec_text(struct recorder *r, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            rec_add(r, "\\n", 2);
        } else if (p[i] == '\r') {
            rec_add(r, "\\r", 2);
        } else {
            rec_add(r, p + i, 1);
        }
    }
}

static int
rec_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct recorder *r = st->ctx;
    struct etl_batch *batch = in->data;

    assert_ptr_equal(in->type, &etl_chunk_rows_type);
    assert_non_null(batch);
    assert_int_equal(in->len, batch->n);
    r->batches++;
    if (r->fail_batch > 0 && (long)r->batches == r->fail_batch) {
        return etl_err_set(err, ETL_E_DB, "next stage refused batch %zu", r->batches);
    }
    assert_true(batch->n > 0 && batch->n <= ETL_BATCH_ROWS);
    if (batch->n > r->max_batch) {
        r->max_batch = batch->n;
    }
    for (size_t i = 0; i < batch->n; i++) {
        struct etl_row *row = &batch->rows[i];
        char num[32];

        /* parse leaves the normalized part zero */
        assert_int_equal(row->region[0], '\0');
        assert_null(row->indicator);
        assert_null(row->unit);
        assert_int_equal(row->value[0], '\0');
        assert_int_equal(row->period.kind, ETL_PERIOD_NONE);
        assert_int_equal(strlen(row->raw), row->raw_len);
        assert_true(row->line > r->last_line);
        r->last_line = row->line;
        r->rows++;
        if (row->rejected) {
            r->rejected++;
        }
        if (r->quiet) {
            continue;
        }
        snprintf(num, sizeof(num), "%lu|", row->line);
        rec_add(r, num, strlen(num));
        rec_text(r, row->raw, row->raw_len);
        rec_add(r, "|", 1);
        for (int c = 0; c < ETL_NCOLS; c++) {
            if (row->f[c] != NULL) {
                rec_add(r, etl_col_names[c], strlen(etl_col_names[c]));
                rec_add(r, "=", 1);
                rec_text(r, row->f[c], strlen(row->f[c]));
                rec_add(r, ";", 1);
            }
        }
        /* SDMX-CSV: what parse sets beyond the fields */
        if (row->qualifier != ETL_Q_EXACT) {
            rec_add(r, "q=", 2);
            rec_add(r, etl_qualifier_names[row->qualifier],
                    strlen(etl_qualifier_names[row->qualifier]));
            rec_add(r, ";", 1);
        }
        if (row->deleted) {
            rec_add(r, "deleted;", 8);
        }
        rec_add(r, "|", 1);
        if (row->rejected) {
            rec_add(r, row->reason, strlen(row->reason));
        }
        rec_add(r, "\n", 1);
        /* scribble on the row: the next batch must not see it */
        strcpy(row->region, "999999");
        row->rejected = true;
        row->deleted = true;
        row->qualifier = ETL_Q_APPROX;
    }
    return 0;
}

/* The verdict handed down the chain (parse never changes it). */
static struct etl_verdict verdict;

static int
rec_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    struct recorder *r = st->ctx;

    (void)v;
    r->finishes++;
    if (r->fail_finish) {
        return etl_err_set(err, ETL_E_DB, "next stage refused to finish");
    }
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
    struct recorder rec;
    struct etl_job job;
    struct etl_file file;
};

/*
 * Configure a parse_csv stage from the YAML text of its keys (checked with
 * the kind's key table, as the engine does).  Returns 0, or -1 with 'err'.
 */
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
    f->st.next = &f->next;
    f->next.kind = &recorder_kind;
    f->next.name = "next";
    f->next.ctx = &f->rec;
    f->file.url = "http://example.org/2021.csv";
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
    assert_null(f->st.ctx);
    etl_doc_free(f->doc);
    free(f->rec.s);
}

/* Forget what the recorder saw. */
static void
fx_forget(struct fx *f)
{
    struct recorder keep = f->rec;

    free(keep.s);
    memset(&f->rec, 0, sizeof(f->rec));
    f->rec.quiet = keep.quiet;
}

/*
 * One file through the stage: begin, process in pieces of 'piece' bytes
 * (0: whole), finish.  Returns 0 or -1; 'err' filled.
 */
static int
fx_run(struct fx *f, const void *data, size_t n, size_t piece, struct etl_err *err)
{
    const char *p = data;
    struct etl_chunk c;
    size_t pos = 0;

    etl_err_clear(err);
    fx_forget(f);
    if (etl_stage_parse_csv.begin(&f->st, err) < 0) {
        return -1;
    }
    while (pos < n) {
        size_t k = piece == 0 || piece > n - pos ? n - pos : piece;

        memset(&c, 0, sizeof(c));
        c.bytes = p + pos;
        c.len = k;
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

/* Run 'text' whole and in pieces of 1, 7 and 64 bytes: same rows each time. */
static void
expect_rows(struct fx *f, const char *text, const char *want)
{
    static const size_t pieces[] = { 0, 1, 7, 64 };
    struct etl_err err;

    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        assert_int_equal(fx_run(f, text, strlen(text), pieces[i], &err), 0);
        assert_int_equal(err.code, ETL_E_NONE);
        assert_non_null(f->rec.s != NULL ? f->rec.s : (want[0] == '\0' ? "" : NULL));
        assert_string_equal(f->rec.s != NULL ? f->rec.s : "", want);
        assert_int_equal(f->rec.finishes, 1);
    }
}

/* Configure with 'yaml', expect rows for 'text'. */
static void
check(const char *yaml, const char *text, const char *want)
{
    struct fx f;
    struct etl_err err;

    assert_int_equal(fx_open(&f, yaml, &err), 0);
    expect_rows(&f, text, want);
    fx_close(&f);
}

/* Configure with 'yaml', expect the file to fail with 'msg' at 'where'. */
static void
check_file_error(const char *yaml, const char *text, enum etl_errcode code,
                 const char *msg, const char *where)
{
    struct fx f;
    struct etl_err err;

    assert_int_equal(fx_open(&f, yaml, &err), 0);
    assert_int_equal(fx_run(&f, text, strlen(text), 0, &err), -1);
    assert_int_equal(err.code, code);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, where);
    assert_int_equal(f.rec.finishes, 0);
    /* the same cut in small pieces */
    assert_int_equal(fx_run(&f, text, strlen(text), 3, &err), -1);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, where);
    fx_close(&f);
}

/* Configure with 'yaml' and expect it to fail with 'msg' at 'where'. */
static void
check_config_error(const char *yaml, const char *msg, const char *where)
{
    struct fx f;
    struct etl_err err;

    assert_int_equal(fx_open(&f, yaml, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, where);
    fx_close(&f);
}

#define NOKEYS "{}\n"

/* ---- header mapping ------------------------------------------------------ */

static void
test_chinese_header(void **state)
{
    (void)state;
    check(NOKEYS,
          "地区,结对地区,指标,时期,数值,单位,备注\n"
          "广东,广西,新增引导企业,2021,2193,家,\n"
          "全国,,实际到位投资额(亿元),2022年上半年,342.3,,\"据新华社\"\n",
          "2|广东,广西,新增引导企业,2021,2193,家,|region=广东;partner=广西;"
          "indicator=新增引导企业;period=2021;value=2193;unit=家;note=;|\n"
          "3|全国,,实际到位投资额(亿元),2022年上半年,342.3,,\"据新华社\"|region=全国;"
          "partner=;indicator=实际到位投资额(亿元);period=2022年上半年;value=342.3;"
          "unit=;note=据新华社;|\n");
}

static void
test_english_header(void **state)
{
    (void)state;
    /* case, spaces, a column order of its own, unknown columns ignored */
    check(NOKEYS,
          " VALUE ,Source,period,Indicator, Region\n"
          "926.3万,x,2021,poverty_labour_employed,全国\n",
          "2|926.3万,x,2021,poverty_labour_employed,全国|region=全国;"
          "indicator=poverty_labour_employed;period=2021;value=926.3万;|\n");
    /* TSV, sniffed; optional columns absent stay NULL */
    check(NOKEYS,
          "region\tindicator\tperiod\tvalue\tnotes\n"
          "广西\tx\t2021\t1,005.4\tok\n",
          "2|广西\tx\t2021\t1,005.4\tok|region=广西;indicator=x;period=2021;"
          "value=1,005.4;note=ok;|\n");
    /* full-width brackets and letters, U+3000 around a header name */
    check(NOKEYS,
          "省（区、市）;　指标　;Ｔｉｍｅ;值\n"
          "宁夏;b;2021;3\n",
          "2|宁夏;b;2021;3|region=宁夏;indicator=b;period=2021;value=3;|\n");
}

static void
test_columns_key(void **state)
{
    (void)state;
    /* names replace the defaults of their column */
    check("columns:\n"
          "  region: 省级单位\n"
          "  value: [金额, 数额]\n"
          "  note: 说明\n",
          "地区,省级单位,指标,时期,数额,说明\n"
          "x,江苏,y,2021,5,n\n",
          "2|x,江苏,y,2021,5,n|region=江苏;indicator=y;period=2021;value=5;note=n;|\n");
    /* U+3000 inside a name is a space; a header name too long to match is
       ignored, like any unknown column */
    {
        char text[1024];
        size_t n = 0;

        memcpy(text, "指　标,", 10);
        n = 10;
        memset(text + n, 'h', 300);
        n += 300;
        n += (size_t)sprintf(text + n, ",region,period,value\na,b,c,d,e\n");
        check("columns: {indicator: \"指 标\"}\n", text,
              "2|a,b,c,d,e|region=c;indicator=a;period=d;value=e;|\n");
    }
    /* matched like the defaults: trimmed, case and width folded */
    check("columns: {region: Province Name}\n",
          "ＰＲＯＶＩＮＣＥ name ,indicator,period,value\n"
          "a,b,c,d\n",
          "2|a,b,c,d|region=a;indicator=b;period=c;value=d;|\n");
}

static void
test_missing_column(void **state)
{
    struct fx f;
    struct etl_err err;
    static const char text[] = "地区,指标,数值\n广东,x,1\n";

    (void)state;
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    assert_int_equal(fx_run(&f, text, strlen(text), 0, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "missing column \"period\" (expected a header named "
                        "one of: 时期, period, 年份, time, 时间)");
    assert_string_equal(err.detail, "the header is \"地区,指标,数值\"");
    assert_string_equal(err.where, "line 1");
    assert_int_equal(f.rec.rows, 0);
    fx_close(&f);
    check_file_error(NOKEYS, "\n\n,,\nregion,indicator,period\n", ETL_E_DATA,
                     "missing column \"value\" (expected a header named one of: "
                     "数值, value, 值)", "line 4");
    check_file_error(NOKEYS, "a,b\n", ETL_E_DATA,
                     "missing column \"region\" (expected a header named one of: "
                     "地区, region, 省份, 省(区、市))", "line 1");
    /* with "columns:" the list is the configured one */
    check_file_error("columns: {region: [省级单位, 省名]}\n", "地区,指标,时期,数值\n",
                     ETL_E_DATA,
                     "missing column \"region\" (expected a header named one of: "
                     "省级单位, 省名)", "line 1");
}

static void
test_header_errors(void **state)
{
    (void)state;
    check_file_error(NOKEYS, "地区,指标,时期,数值,Region\n", ETL_E_DATA,
                     "column \"region\" is named twice in the header: \"地区\" "
                     "(field 1) and \"Region\" (field 5)", "line 1");
    check_file_error(NOKEYS, "\n\"地区,指标,时期,数值\n", ETL_E_DATA,
                     "invalid header: unterminated quoted field starting at line 2",
                     "line 2");
    check_file_error(NOKEYS, "", ETL_E_DATA, "no header: the file is empty", "line 1");
    check_file_error(NOKEYS, "\n \n\t\n", ETL_E_DATA, "no header: the file is empty",
                     "line 1");
}

/* ---- rows ---------------------------------------------------------------- */

static void
test_rows_and_rejects(void **state)
{
    (void)state;
    check(NOKEYS,
          "地区,指标,时期,数值\r\n"
          "\r\n"                                    /* blank: skipped */
          "广东,a,2021,1\r\n"
          "广西,b,2021\r\n"                         /* too few */
          "云南,c,2021,3,extra\r\n"                 /* too many */
          ",,,\r\n"                                 /* all blank: skipped */
          "　,  ,\t,\r\n"                           /* blank after trimming */
          "\"贵州\",\"多\n行\",2021,4\r\n"          /* quoted newline */
          "四川,d\"e,2021,5\r\n"                    /* stray quote */
          "  甘肃　, e ,2021,　6　\r\n"             /* trimmed */
          "重庆,\"f\"g,2021,7\r\n"                  /* text after quote */
          "青海,\"h,2021,8\r\n",                    /* unterminated at EOF; the
                                                   * field is trimmed of the
                                                   * CR LF like any blank */
          "3|广东,a,2021,1|region=广东;indicator=a;period=2021;value=1;|\n"
          "4|广西,b,2021|region=广西;indicator=b;period=2021;|expected 4 fields, found 3\n"
          "5|云南,c,2021,3,extra|region=云南;indicator=c;period=2021;value=3;|"
          "expected 4 fields, found 5\n"
          "8|\"贵州\",\"多\\n行\",2021,4|region=贵州;indicator=多\\n行;period=2021;"
          "value=4;|\n"
          "10|四川,d\"e,2021,5|region=四川;indicator=d\"e;period=2021;value=5;|"
          "stray quote in unquoted field at line 10, column 5\n"
          "11|  甘肃　, e ,2021,　6　|region=甘肃;indicator=e;period=2021;value=6;|\n"
          "12|重庆,\"f\"g,2021,7|region=重庆;indicator=fg;period=2021;value=7;|"
          "unexpected character after closing quote at line 12, column 7\n"
          "13|青海,\"h,2021,8\\r\\n|region=青海;indicator=h,2021,8;|"
          "unterminated quoted field starting at line 13\n");
}

/*
 * Header names fold with the text module: every blank trims (U+00A0 and
 * U+3000 too), full-width ASCII folds and upper case lowers; a byte EF
 * that does not start a full-width form is kept as it is, not read as one.
 */
static void
test_fold_header_names(void **state)
{
    char out[PARSE_NAME_MAX];

    (void)state;
    assert_int_equal(parse_fold("\xc2\xa0 Region\xe3\x80\x80\r\n", 14, out), 6);
    assert_string_equal(out, "region");
    assert_int_equal(parse_fold("\xef\xbc\xb0\xef\xbd\x85riod", 10, out), 6);
    assert_string_equal(out, "period");
    /* EF BC 21 is no UTF-8 sequence (21 is no continuation byte): kept,
     * not read as U+FF21 (Ａ) */
    assert_int_equal(parse_fold("\xef\xbc!", 3, out), 3);
    assert_memory_equal(out, "\xef\xbc!", 3);
    /* U+FF00 sits before the folded range */
    assert_int_equal(parse_fold("\xef\xbc\x80", 3, out), 3);
    assert_memory_equal(out, "\xef\xbc\x80", 3);
    assert_int_equal(parse_fold(" \t ", 3, out), 0);
}

static void
test_long_record(void **state)
{
    struct fx f;
    struct etl_err err;
    size_t n = 0;
    char *text = malloc(8192);

    (void)state;
    n += (size_t)sprintf(text + n, "region,indicator,period,value\n");
    n += (size_t)sprintf(text + n, "a,b,c,");
    memset(text + n, '9', 2000);
    n += 2000;
    n += (size_t)sprintf(text + n, "\nx,y,z,1\n");
    assert_int_equal(fx_open(&f, "max_record_bytes: 1024\n", &err), 0);
    assert_int_equal(fx_run(&f, text, n, 100, &err), 0);
    assert_int_equal(f.rec.rows, 2);
    assert_int_equal(f.rec.rejected, 1);
    assert_non_null(strstr(f.rec.s, "|region=a;indicator=b;period=c;|record longer "
                           "than 1024 bytes\n3|x,y,z,1|"));
    /* the raw text was cut at the limit */
    assert_non_null(strstr(f.rec.s, "2|a,b,c,9999"));
    assert_int_equal(strchr(f.rec.s, '|') - f.rec.s, 1);
    assert_int_equal(strchr(f.rec.s + 2, '|') - (f.rec.s + 2), 1024);
    fx_close(&f);
    free(text);
}

static void
test_delimiter_and_encoding_keys(void **state)
{
    (void)state;
    /* forced ';': the commas are data */
    check("delimiter: semicolon\n",
          "region;indicator;period;value\na,1;b;c;1,5\n",
          "2|a,1;b;c;1,5|region=a,1;indicator=b;period=c;value=1,5;|\n");
    check("delimiter: \"\\t\"\n",
          "region\tindicator\tperiod\tvalue\na,b\tc\td\te\n",
          "2|a,b\tc\td\te|region=a,b;indicator=c;period=d;value=e;|\n");
    check("delimiter: tab\n",
          "region\tindicator\tperiod\tvalue\na\tc\td\te\n",
          "2|a\tc\td\te|region=a;indicator=c;period=d;value=e;|\n");
    check("delimiter: comma\nencoding: gbk\ncompression: none\n",
          "\xb5\xd8\xc7\xf8,\xd6\xb8\xb1\xea,period,value\n"
          "\xd6\xd0\xb9\xfa,x,2021,1\n",
          "2|中国,x,2021,1|region=中国;indicator=x;period=2021;value=1;|\n");
}

/* GBK, gzip-compressed, sniffed all the way. */
static void
test_gzip_gbk(void **state)
{
    static const char gbk[] = "\xb5\xd8\xc7\xf8\t\xd6\xb8\xb1\xea\t\xca\xb1\xc6\xda\t"
                              "\xca\xfd\xd6\xb5\r\n"                /* 地区 指标 时期 数值 */
                              "\xd6\xd0\xb9\xfa\tx\t2021\t1\r\n";   /* 中国 */
    unsigned char z[512];
    z_stream zs;
    struct fx f;
    struct etl_err err;

    (void)state;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)gbk;
    zs.avail_in = sizeof(gbk) - 1;
    zs.next_out = z;
    zs.avail_out = sizeof(z);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    for (size_t piece = 1; piece <= zs.total_out; piece++) {
        assert_int_equal(fx_run(&f, z, zs.total_out, piece, &err), 0);
        assert_string_equal(f.rec.s, "2|中国\tx\t2021\t1|region=中国;indicator=x;"
                            "period=2021;value=1;|\n");
    }
    /* truncated */
    assert_int_equal(fx_run(&f, z, zs.total_out - 4, 0, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "truncated gzip stream");
    assert_string_equal(err.where, "line 3");
    deflateEnd(&zs);
    fx_close(&f);
}

static void
test_decode_error_where(void **state)
{
    (void)state;
    /* the line of the bad byte, after a quoted newline */
    check_file_error("encoding: utf-8\n",
                     "region,indicator,period,value\n\"a\nb\",x,2021,1\nc,\xff,2021,2\n",
                     ETL_E_DATA, "invalid UTF-8 byte sequence at byte offset 47",
                     "line 4");
    check_file_error("encoding: gbk\n", "region,indicator,period,value\n\xff\n",
                     ETL_E_DATA, "invalid GBK byte sequence at byte offset 30", "line 2");
}

static void
test_batches(void **state)
{
    struct fx f;
    struct etl_err err;
    size_t n = 0, rows = 1300;
    char *text = malloc(rows * 32 + 64);

    (void)state;
    n += (size_t)sprintf(text + n, "region,indicator,period,value\n");
    for (size_t i = 0; i < rows; i++) {
        n += (size_t)sprintf(text + n, "r%zu,i,2021,%zu\n", i, i);
    }
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    assert_int_equal(fx_run(&f, text, n, 4096, &err), 0);
    assert_int_equal(f.rec.rows, rows);
    assert_int_equal(f.rec.batches, 3);     /* 512 + 512 + 276 */
    assert_int_equal(f.rec.max_batch, ETL_BATCH_ROWS);
    assert_int_equal(f.rec.finishes, 1);
    assert_int_equal(f.rec.rejected, 0);    /* the scribbles did not come back */
    assert_int_equal(f.rec.last_line, rows + 1);
    assert_non_null(strstr(f.rec.s, "\n1301|r1299,i,2021,1299|region=r1299;"));
    fx_close(&f);
    free(text);
}

static void
test_downstream_errors(void **state)
{
    struct fx f;
    struct etl_err err;
    size_t n = 0;
    char *text = malloc(6000 * 32);

    (void)state;
    n += (size_t)sprintf(text + n, "region,indicator,period,value\n");
    /* more than the 64 KiB the delimiter sniffing holds back */
    for (int i = 0; i < 6000; i++) {
        n += (size_t)sprintf(text + n, "r%d,i,2021,%d\n", i, i);
    }
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    /* during process: the next stage's error, untouched (no "line") */
    fx_forget(&f);
    f.rec.fail_batch = 1;
    etl_err_clear(&err);
    assert_int_equal(etl_stage_parse_csv.begin(&f.st, &err), 0);
    {
        struct etl_chunk c = { .bytes = text, .len = n };

        assert_int_equal(etl_stage_parse_csv.process(&f.st, &c, &err), -1);
    }
    assert_int_equal(err.code, ETL_E_DB);
    assert_string_equal(err.msg, "next stage refused batch 1");
    assert_string_equal(err.where, "");
    etl_stage_parse_csv.abort(&f.st);
    /* during finish: the last batch (11 full ones went before) */
    fx_forget(&f);
    f.rec.fail_batch = 12;
    etl_err_clear(&err);
    assert_int_equal(etl_stage_parse_csv.begin(&f.st, &err), 0);
    {
        struct etl_chunk c = { .bytes = text, .len = n };

        assert_int_equal(etl_stage_parse_csv.process(&f.st, &c, &err), 0);
    }
    assert_int_equal(etl_stage_parse_csv.finish(&f.st, &verdict, &err), -1);
    assert_string_equal(err.msg, "next stage refused batch 12");
    assert_string_equal(err.where, "");
    etl_stage_parse_csv.abort(&f.st);
    /* the next stage's finish */
    fx_forget(&f);
    f.rec.fail_finish = true;
    etl_err_clear(&err);
    assert_int_equal(etl_stage_parse_csv.begin(&f.st, &err), 0);
    {
        struct etl_chunk c = { .bytes = text, .len = n };

        assert_int_equal(etl_stage_parse_csv.process(&f.st, &c, &err), 0);
    }
    assert_int_equal(etl_stage_parse_csv.finish(&f.st, &verdict, &err), -1);
    assert_string_equal(err.msg, "next stage refused to finish");
    assert_int_equal(f.rec.rows, 6000);
    etl_stage_parse_csv.abort(&f.st);
    fx_close(&f);
    free(text);
}

/* parse takes bytes: any other chunk is an internal error, nothing pushed. */
static void
test_chunk_type(void **state)
{
    struct fx f;
    struct etl_err err;
    struct etl_batch *b = calloc(1, sizeof(*b));
    struct etl_chunk c = etl_chunk_rows(b);

    (void)state;
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    assert_int_equal(etl_stage_parse_csv.begin(&f.st, &err), 0);
    assert_int_equal(etl_stage_parse_csv.process(&f.st, &c, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "stage parse (parse_csv) expects bytes, not rows");
    assert_int_equal(f.rec.batches, 0);
    /* inside, the row builder link takes records only */
    {
        struct parse *ps = f.st.ctx;
        struct etl_chunk bytes = { .bytes = "a,b\n", .len = 4 };

        assert_ptr_equal(ps->rows.kind, &parse_rows_kind);
        assert_ptr_equal(etl_csv_link(ps->csv)->next, &ps->rows);
        assert_ptr_equal(etl_decode_link(ps->dec)->next, &ps->text);
        assert_ptr_equal(etl_json_link(ps->json)->next, &ps->rows);
        assert_ptr_equal(ps->rows.next, &f.next);
        etl_err_clear(&err);
        assert_int_equal(ps->rows.kind->process(&ps->rows, &bytes, &err), -1);
        assert_int_equal(err.code, ETL_E_INTERNAL);
        assert_string_equal(err.msg, "the row builder expects records, not bytes");
        assert_int_equal(f.rec.batches, 0);
    }
    etl_stage_parse_csv.abort(&f.st);
    fx_close(&f);
    free(b);
}

/* A file dropped half-way leaves nothing behind for the next one. */
static void
test_abort_and_reuse(void **state)
{
    static const char half[] = "region,indicator,period,value\na,b,c,\"open";
    static const char next[] = "\xef\xbb\xbf地区;指标;时期;数值\n甲;乙;丙;丁\n";
    struct fx f;
    struct etl_err err;
    struct etl_chunk c = { .bytes = half, .len = sizeof(half) - 1 };

    (void)state;
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    assert_int_equal(etl_stage_parse_csv.begin(&f.st, &err), 0);
    assert_int_equal(etl_stage_parse_csv.process(&f.st, &c, &err), 0);
    etl_stage_parse_csv.abort(&f.st);
    expect_rows(&f, next, "2|甲;乙;丙;丁|region=甲;indicator=乙;period=丙;value=丁;|\n");
    /* after a failed file too */
    assert_int_equal(fx_run(&f, "a,b\n", 4, 0, &err), -1);
    expect_rows(&f, next, "2|甲;乙;丙;丁|region=甲;indicator=乙;period=丙;value=丁;|\n");
    fx_close(&f);
}

/* Wide rows fill the text arena before 512 rows; one huge row grows it. */
static void
test_arena(void **state)
{
    enum { ROWS = 700, WIDE = 900, HUGE = 600 * 1024 };
    struct fx f;
    struct etl_err err;
    size_t n = 0, before;
    char *text = malloc(ROWS * (WIDE + 64) + HUGE + 256);
    char want[64];

    (void)state;
    n += (size_t)sprintf(text + n, "region,indicator,period,value\n");
    for (int i = 0; i < ROWS; i++) {
        n += (size_t)sprintf(text + n, "r%d,", i);
        memset(text + n, 'w', WIDE);
        n += WIDE;
        n += (size_t)sprintf(text + n, ",2021,%d\n", i);
    }
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    assert_int_equal(fx_run(&f, text, n, 65536, &err), 0);
    assert_int_equal(f.rec.rows, ROWS);
    /* 2 x 900 bytes a row in a 256 KiB arena: batches of about 140 rows */
    assert_true(f.rec.batches >= 5);
    assert_true(f.rec.max_batch < ETL_BATCH_ROWS);
    snprintf(want, sizeof(want), "\n%d|r%d,www", ROWS + 1, ROWS - 1);
    assert_non_null(strstr(f.rec.s, want));
    snprintf(want, sizeof(want), "w;period=2021;value=%d;|\n", ROWS - 1);
    assert_non_null(strstr(f.rec.s, want));
    before = etl_stage_parse_csv_footprint(&f.st);
    /* one row of 600 KiB: the arena grows to hold it, rows around it intact */
    n = (size_t)sprintf(text, "region,indicator,period,value\na,b,c,1\nbig,");
    memset(text + n, 'h', HUGE);
    n += HUGE;
    n += (size_t)sprintf(text + n, ",2021,2\nz,y,x,3\n");
    assert_int_equal(fx_run(&f, text, n, 100000, &err), 0);
    assert_int_equal(f.rec.rows, 3);
    assert_int_equal(f.rec.rejected, 0);
    assert_non_null(strstr(f.rec.s, "2|a,b,c,1|region=a;indicator=b;period=c;value=1;|\n"
                                    "3|big,hhh"));
    assert_non_null(strstr(f.rec.s, "h;period=2021;value=2;|\n"
                                    "4|z,y,x,3|region=z;indicator=y;period=x;value=3;|\n"));
    assert_true(etl_stage_parse_csv_footprint(&f.st) > before + HUGE);
    /* bounded by the record limit: raw text, field texts, arena for both */
    assert_true(etl_stage_parse_csv_footprint(&f.st) < before + 4 * ETL_CSV_MAX_RECORD);
    fx_close(&f);
    free(text);
}

/* ---- SDMX-CSV ------------------------------------------------------------ */

static void
test_sdmx_10(void **state)
{
    (void)state;
    /* DATAFLOW first: SDMX-CSV 1.0; unknown columns (FREQ, DECIMALS)
       ignored; UNIT_MULT applied; COMMENT is the note */
    check(NOKEYS,
          "DATAFLOW,FREQ,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,"
          "UNIT_MULT,OBS_STATUS,DECIMALS,COMMENT\n"
          "EWC:DF_EWC(1.0),A,000000,enterprises_guided,2021,2193,enterprise,0,A,0,\n"
          "EWC:DF_EWC(1.0),A,000000,agri_products_sold,2021,813,CNY,8,A,0,含消费帮扶\n",
          "2|EWC:DF_EWC(1.0),A,000000,enterprises_guided,2021,2193,enterprise,0,A,0,|"
          "region=000000;indicator=enterprises_guided;period=2021;value=2193;"
          "unit=enterprise;note=;|\n"
          "3|EWC:DF_EWC(1.0),A,000000,agri_products_sold,2021,813,CNY,8,A,0,含消费帮扶|"
          "region=000000;indicator=agri_products_sold;period=2021;value=81300000000;"
          "unit=CNY;note=含消费帮扶;|\n");
    /* case-insensitive names, any order; 1.0 has no ACTION: a column of
       that name is just an unknown one */
    check(NOKEYS,
          "dataflow,obs_value,Time_Period,Indicator,Ref_Area,Counterpart_Area,ACTION\n"
          "X,1,2021,a,440000,450000,D\n",
          "2|X,1,2021,a,440000,450000,D|region=440000;partner=450000;indicator=a;"
          "period=2021;value=1;|\n");
}

static void
test_sdmx_20(void **state)
{
    (void)state;
    check(NOKEYS,
          "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,COUNTERPART_AREA,INDICATOR,"
          "TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,OBS_STATUS,OBS_COMMENT\n"
          "dataflow,EWC:DF_EWC(1.0.0),I,S,000000,,fiscal_aid_funds,2022-S1,220,CNY,8,A,"
          "\"据新华社, 2022\"\n"
          "dataflow,EWC:DF_EWC(1.0.0),R,A,440000,450000,cadres_exchanged,2021,8.13,"
          "person,2,E,\n",
          "2|dataflow,EWC:DF_EWC(1.0.0),I,S,000000,,fiscal_aid_funds,2022-S1,220,CNY,8,A,"
          "\"据新华社, 2022\"|region=000000;partner=;indicator=fiscal_aid_funds;"
          "period=2022-S1;value=22000000000;unit=CNY;note=据新华社, 2022;|\n"
          "3|dataflow,EWC:DF_EWC(1.0.0),R,A,440000,450000,cadres_exchanged,2021,8.13,"
          "person,2,E,|region=440000;partner=450000;indicator=cadres_exchanged;"
          "period=2021;value=813;unit=person;note=;q=estimate;|\n");
    /* STRUCTURE[;] (a sub-field separator), no ACTION column, ';' as the
       delimiter, COMMENT loses to OBS_COMMENT whichever comes first */
    check(NOKEYS,
          "STRUCTURE[;];STRUCTURE_ID;OBS_COMMENT;REF_AREA;INDICATOR;TIME_PERIOD;"
          "OBS_VALUE;COMMENT\n"
          "dataflow;A:B(1.0);obs;000000;x;2021;1,5;dataset\n",
          "2|dataflow;A:B(1.0);obs;000000;x;2021;1,5;dataset|region=000000;"
          "indicator=x;period=2021;value=1,5;note=obs;|\n");
    check(NOKEYS,
          "structure,structure_id,COMMENT,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,"
          "obs_comment\n"
          "dataflow,A:B(1.0),dataset,000000,x,2021,1,obs\n",
          "2|dataflow,A:B(1.0),dataset,000000,x,2021,1,obs|region=000000;"
          "indicator=x;period=2021;value=1;note=obs;|\n");
    /* a forced delimiter that splits STRUCTURE[;] in the header */
    check("delimiter: semicolon\n",
          "STRUCTURE[;];STRUCTURE_ID;REF_AREA;INDICATOR;TIME_PERIOD;OBS_VALUE\n"
          "d;s;r;i;2021;1\n",
          "2|d;s;r;i;2021;1|region=r;indicator=i;period=2021;value=1;|\n");
    check("delimiter: semicolon\n",
          "STRUCTURE[;;];STRUCTURE_ID;REF_AREA;INDICATOR;TIME_PERIOD;OBS_VALUE\n"
          "d;s;r;i;2021;1\nd;s;r;i;2021\n",
          "2|d;s;r;i;2021;1|region=r;indicator=i;period=2021;value=1;|\n"
          "3|d;s;r;i;2021|region=r;indicator=i;period=2021;|"
          "expected 6 fields, found 5\n");
    /* only COMMENT */
    check(NOKEYS,
          "STRUCTURE,STRUCTURE_ID,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,COMMENT\n"
          "dataflow,A:B(1.0),000000,x,2021,1,c\n",
          "2|dataflow,A:B(1.0),000000,x,2021,1,c|region=000000;indicator=x;"
          "period=2021;value=1;note=c;|\n");
}

/* labels=both ("ID: name" in headers and coded values), labels=name. */
static void
test_sdmx_labels(void **state)
{
    (void)state;
    check(NOKEYS,
          "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA: Reference area,"
          "INDICATOR: Indicator,TIME_PERIOD: Time,OBS_VALUE: Observation value,"
          "UNIT_MEASURE: Unit,UNIT_MULT: Unit multiplier,OBS_STATUS: Status,"
          "OBS_COMMENT: Comment\n"
          "dataflow,EWC:DF_EWC(1.0.0): 东西部协作,D,440000: 广东省,"
          "enterprises_guided: 引导企业,2021: 2021,5.5,enterprise: 家,"
          "1: Tens,P: Provisional,\"note: kept: whole\"\n",
          "2|dataflow,EWC:DF_EWC(1.0.0): 东西部协作,D,440000: 广东省,"
          "enterprises_guided: 引导企业,2021: 2021,5.5,enterprise: 家,"
          "1: Tens,P: Provisional,\"note: kept: whole\"|region=440000;"
          "indicator=enterprises_guided;period=2021;value=55;unit=enterprise;"
          "note=note: kept: whole;q=provisional;deleted;|\n");
    /* labels=name: a name column follows each component column; one named
       like a component ID is not taken for it */
    check(NOKEYS,
          "STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,ACTION,REF_AREA,Ref_Area,"
          "INDICATOR,Indicator,TIME_PERIOD,Time period,OBS_VALUE,Obs_Value\n"
          "dataflow,A:B(1.0),Flow,I,440000,广东,x,X 指标,2021,2021,7,\n",
          "2|dataflow,A:B(1.0),Flow,I,440000,广东,x,X 指标,2021,2021,7,|"
          "region=440000;indicator=x;period=2021;value=7;|\n");
}

static void
test_sdmx_unit_mult(void **state)
{
    (void)state;
    check(NOKEYS,
          "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,UNIT_MULT\n"
          "F,r,i,2021,8.13,8\n"             /* 8.13 x 10^8 */
          "F,r,i,2021,220,8\n"
          "F,r,i,2021,926.3,4\n"
          "F,r,i,2021,5,-2\n"               /* negative powers: exact */
          "F,r,i,2021,-1.5,+1\n"
          "F,r,i,2021,12.40,0\n"            /* 0: the text as it is */
          "F,r,i,2021,12.40,\n"             /* empty: no multiplier */
          "F,r,i,2021,1.5E3,\n"             /* an exponent, without UNIT_MULT */
          "F,r,i,2021,2.5e-1,1\n"           /* and with it */
          "F,r,i,2021,.5,1\n"
          "F,r,i,2021,+7.,0\n"
          "F,r,i,2021,0.000,3\n"
          "F,r,i,2021,926.3万,\n"           /* not a decimal, no UNIT_MULT: normalize's */
          "F,r,i,2021,,8\n"                 /* missing stays missing */
          "F,r,i,2021,1,24\n",
          "2|F,r,i,2021,8.13,8|region=r;indicator=i;period=2021;value=813000000;|\n"
          "3|F,r,i,2021,220,8|region=r;indicator=i;period=2021;value=22000000000;|\n"
          "4|F,r,i,2021,926.3,4|region=r;indicator=i;period=2021;value=9263000;|\n"
          "5|F,r,i,2021,5,-2|region=r;indicator=i;period=2021;value=0.05;|\n"
          "6|F,r,i,2021,-1.5,+1|region=r;indicator=i;period=2021;value=-15;|\n"
          "7|F,r,i,2021,12.40,0|region=r;indicator=i;period=2021;value=12.40;|\n"
          "8|F,r,i,2021,12.40,|region=r;indicator=i;period=2021;value=12.40;|\n"
          "9|F,r,i,2021,1.5E3,|region=r;indicator=i;period=2021;value=1500;|\n"
          "10|F,r,i,2021,2.5e-1,1|region=r;indicator=i;period=2021;value=2.5;|\n"
          "11|F,r,i,2021,.5,1|region=r;indicator=i;period=2021;value=5;|\n"
          "12|F,r,i,2021,+7.,0|region=r;indicator=i;period=2021;value=7;|\n"
          "13|F,r,i,2021,0.000,3|region=r;indicator=i;period=2021;value=0;|\n"
          "14|F,r,i,2021,926.3万,|region=r;indicator=i;period=2021;value=926.3万;|\n"
          "15|F,r,i,2021,,8|region=r;indicator=i;period=2021;value=;|\n"
          "16|F,r,i,2021,1,24|region=r;indicator=i;period=2021;"
          "value=1000000000000000000000000;|\n");
}

static void
test_sdmx_unit_mult_rejects(void **state)
{
    char text[512], want[1024];
    static const char hdr[] = "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,"
                              "UNIT_MULT\n";

    (void)state;
    check(NOKEYS,
          "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,UNIT_MULT\n"
          "F,r,i,2021,1,1.5\n"
          "F,r,i,2021,1,x\n"
          "F,r,i,2021,1,25\n"
          "F,r,i,2021,1,-25\n"
          "F,r,i,2021,1,8亿\n"
          "F,r,i,2021,,abc\n"               /* checked with a missing value too */
          "F,r,i,2021,abc,8\n"
          "F,r,i,2021,\"1,005.4\",8\n"
          "F,r,i,2021,926.3万,4\n"
          "F,r,i,2021,1e5000,1\n"
          "F,r,i,2021,1.2.3,1\n"
          "F,r,i,2021,-,1\n",
          "2|F,r,i,2021,1,1.5|region=r;indicator=i;period=2021;value=1;|"
          "invalid UNIT_MULT \"1.5\" (expected an integer from -24 to 24)\n"
          "3|F,r,i,2021,1,x|region=r;indicator=i;period=2021;value=1;|"
          "invalid UNIT_MULT \"x\" (expected an integer from -24 to 24)\n"
          "4|F,r,i,2021,1,25|region=r;indicator=i;period=2021;value=1;|"
          "invalid UNIT_MULT \"25\" (expected an integer from -24 to 24)\n"
          "5|F,r,i,2021,1,-25|region=r;indicator=i;period=2021;value=1;|"
          "invalid UNIT_MULT \"-25\" (expected an integer from -24 to 24)\n"
          "6|F,r,i,2021,1,8亿|region=r;indicator=i;period=2021;value=1;|"
          "invalid UNIT_MULT \"8亿\" (expected an integer from -24 to 24)\n"
          "7|F,r,i,2021,,abc|region=r;indicator=i;period=2021;value=;|"
          "invalid UNIT_MULT \"abc\" (expected an integer from -24 to 24)\n"
          "8|F,r,i,2021,abc,8|region=r;indicator=i;period=2021;value=abc;|"
          "invalid OBS_VALUE \"abc\" for UNIT_MULT 8 (expected a decimal number)\n"
          "9|F,r,i,2021,\"1,005.4\",8|region=r;indicator=i;period=2021;value=1,005.4;|"
          "invalid OBS_VALUE \"1,005.4\" for UNIT_MULT 8 (expected a decimal number)\n"
          "10|F,r,i,2021,926.3万,4|region=r;indicator=i;period=2021;value=926.3万;|"
          "invalid OBS_VALUE \"926.3万\" for UNIT_MULT 4 (expected a decimal number)\n"
          "11|F,r,i,2021,1e5000,1|region=r;indicator=i;period=2021;value=1e5000;|"
          "invalid OBS_VALUE \"1e5000\" for UNIT_MULT 1 (expected a decimal number)\n"
          "12|F,r,i,2021,1.2.3,1|region=r;indicator=i;period=2021;value=1.2.3;|"
          "invalid OBS_VALUE \"1.2.3\" for UNIT_MULT 1 (expected a decimal number)\n"
          "13|F,r,i,2021,-,1|region=r;indicator=i;period=2021;value=-;|"
          "invalid OBS_VALUE \"-\" for UNIT_MULT 1 (expected a decimal number)\n");
    /* the result does not fit a value: etl_num_shift's reason */
    snprintf(text, sizeof(text), "%sF,r,i,2021,%s,24\n", hdr,
             "1234567890123456789012345678901234567890");
    snprintf(want, sizeof(want), "2|F,r,i,2021,%s,24|region=r;indicator=i;"
             "period=2021;value=%s;|value %s×10^24 does not fit 63 characters\n",
             "1234567890123456789012345678901234567890",
             "1234567890123456789012345678901234567890",
             "1234567890123456789012345678901234567890");
    check(NOKEYS, text, want);
    /* an OBS_VALUE too long to rewrite (the reason quotes 60 bytes) */
    snprintf(text, sizeof(text), "%sF,r,i,2021,%s%s,1\n", hdr,
             "1234567890123456789012345678901234567890",
             "123456789012345678901234567890");
    snprintf(want, sizeof(want), "2|F,r,i,2021,%s%s,1|region=r;indicator=i;"
             "period=2021;value=%s%s;|invalid OBS_VALUE \"%s%s\" (longer than 63 "
             "characters)\n",
             "1234567890123456789012345678901234567890",
             "123456789012345678901234567890",
             "1234567890123456789012345678901234567890",
             "123456789012345678901234567890",
             "1234567890123456789012345678901234567890",
             "12345678901234567890");
    check(NOKEYS, text, want);
}

static void
test_sdmx_obs_status(void **state)
{
    (void)state;
    check(NOKEYS,
          "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,UNIT_MULT,OBS_STATUS\n"
          "F,r,i,2021,1,,A\n"
          "F,r,i,2021,2,,\n"
          "F,r,i,2021,3,1,E\n"
          "F,r,i,2021,4,1,P\n"
          "F,r,i,2021,5,1,M\n"              /* missing: the value is dropped */
          "F,r,i,2021,,,A\n"                /* an empty value is missing */
          "F,r,i,2021,NaN,1,A\n"
          "F,r,i,2021,#N/A,,E\n"
          "F,r,i,2021,6,,X\n"
          "F,r,i,2021,7,,e\n"               /* codes are upper case */
          "F,r,i,2021,8,,AE\n"
          "F,r,i,2021,9,,\"E: Estimated value\"\n",
          "2|F,r,i,2021,1,,A|region=r;indicator=i;period=2021;value=1;|\n"
          "3|F,r,i,2021,2,,|region=r;indicator=i;period=2021;value=2;|\n"
          "4|F,r,i,2021,3,1,E|region=r;indicator=i;period=2021;value=30;"
          "q=estimate;|\n"
          "5|F,r,i,2021,4,1,P|region=r;indicator=i;period=2021;value=40;"
          "q=provisional;|\n"
          "6|F,r,i,2021,5,1,M|region=r;indicator=i;period=2021;value=;|\n"
          "7|F,r,i,2021,,,A|region=r;indicator=i;period=2021;value=;|\n"
          "8|F,r,i,2021,NaN,1,A|region=r;indicator=i;period=2021;value=;|\n"
          "9|F,r,i,2021,#N/A,,E|region=r;indicator=i;period=2021;value=;"
          "q=estimate;|\n"
          "10|F,r,i,2021,6,,X|region=r;indicator=i;period=2021;value=6;|"
          "unknown OBS_STATUS \"X\"\n"
          "11|F,r,i,2021,7,,e|region=r;indicator=i;period=2021;value=7;|"
          "unknown OBS_STATUS \"e\"\n"
          "12|F,r,i,2021,8,,AE|region=r;indicator=i;period=2021;value=8;|"
          "unknown OBS_STATUS \"AE\"\n"
          "13|F,r,i,2021,9,,\"E: Estimated value\"|region=r;indicator=i;"
          "period=2021;value=9;q=estimate;|\n");
}

static void
test_sdmx_action(void **state)
{
    (void)state;
    check(NOKEYS,
          "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,"
          "OBS_STATUS\n"
          "dataflow,A:B(1.0),I,r,i,2021,1,\n"
          "dataflow,A:B(1.0),A,r,i,2021,2,\n"
          "dataflow,A:B(1.0),R,r,i,2021,3,\n"
          "dataflow,A:B(1.0),,r,i,2021,4,\n"          /* empty: Information */
          "dataflow,A:B(1.0),D,r,i,2021,-,\n"         /* "-": a value to delete */
          "dataflow,A:B(1.0),D,r,i,2021,5,E\n"
          "dataflow,A:B(1.0),M,r,i,2021,6,\n"
          "dataflow,A:B(1.0),d,r,i,2021,7,\n"
          "dataflow,A:B(1.0),Delete,r,i,2021,8,\n"
          "dataflow,A:B(1.0),X,r,i,2021,9,X\n",       /* the first reason wins */
          "2|dataflow,A:B(1.0),I,r,i,2021,1,|region=r;indicator=i;period=2021;"
          "value=1;|\n"
          "3|dataflow,A:B(1.0),A,r,i,2021,2,|region=r;indicator=i;period=2021;"
          "value=2;|\n"
          "4|dataflow,A:B(1.0),R,r,i,2021,3,|region=r;indicator=i;period=2021;"
          "value=3;|\n"
          "5|dataflow,A:B(1.0),,r,i,2021,4,|region=r;indicator=i;period=2021;"
          "value=4;|\n"
          "6|dataflow,A:B(1.0),D,r,i,2021,-,|region=r;indicator=i;period=2021;"
          "value=-;deleted;|\n"
          "7|dataflow,A:B(1.0),D,r,i,2021,5,E|region=r;indicator=i;period=2021;"
          "value=5;q=estimate;deleted;|\n"
          "8|dataflow,A:B(1.0),M,r,i,2021,6,|region=r;indicator=i;period=2021;"
          "value=6;|unknown ACTION \"M\"\n"
          "9|dataflow,A:B(1.0),d,r,i,2021,7,|region=r;indicator=i;period=2021;"
          "value=7;|unknown ACTION \"d\"\n"
          "10|dataflow,A:B(1.0),Delete,r,i,2021,8,|region=r;indicator=i;"
          "period=2021;value=8;|unknown ACTION \"Delete\"\n"
          "11|dataflow,A:B(1.0),X,r,i,2021,9,X|region=r;indicator=i;period=2021;"
          "value=9;|unknown ACTION \"X\"\n");
}

/* Malformed records and field counts win over the SDMX checks. */
static void
test_sdmx_record_rejects(void **state)
{
    (void)state;
    check(NOKEYS,
          "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,"
          "UNIT_MULT\n"
          "dataflow,A:B(1.0),X,r,i,2021,1\n"
          "dataflow,A:B(1.0),X,r,i,2021,1,99,extra\n"
          "dataflow,A:B(1.0),X,r,i\",2021,1,99\n"
          "\n"
          "dataflow,A:B(1.0),I,r,i,2021,1,1\n",
          "2|dataflow,A:B(1.0),X,r,i,2021,1|region=r;indicator=i;period=2021;"
          "value=1;|expected 8 fields, found 7\n"
          "3|dataflow,A:B(1.0),X,r,i,2021,1,99,extra|region=r;indicator=i;"
          "period=2021;value=1;|expected 8 fields, found 9\n"
          "4|dataflow,A:B(1.0),X,r,i\",2021,1,99|region=r;indicator=i\";"
          "period=2021;value=1;|stray quote in unquoted field at line 4, column 24\n"
          "6|dataflow,A:B(1.0),I,r,i,2021,1,1|region=r;indicator=i;period=2021;"
          "value=10;|\n");
}

static void
test_sdmx_file_errors(void **state)
{
    (void)state;
    check_file_error(NOKEYS, "DATAFLOW,INDICATOR,TIME_PERIOD,OBS_VALUE\nF,i,2021,1\n",
                     ETL_E_DATA, "missing column \"REF_AREA\" (SDMX-CSV 1.0 needs "
                     "REF_AREA, INDICATOR, TIME_PERIOD and OBS_VALUE)", "line 1");
    check_file_error(NOKEYS, "\n\nSTRUCTURE,STRUCTURE_ID,REF_AREA,INDICATOR,"
                     "TIME_PERIOD,VALUE\n", ETL_E_DATA,
                     "missing column \"OBS_VALUE\" (SDMX-CSV 2.0 needs "
                     "REF_AREA, INDICATOR, TIME_PERIOD and OBS_VALUE)", "line 3");
    /* the CSV names do not count in SDMX-CSV */
    check_file_error(NOKEYS, "DATAFLOW,地区,REF_AREA,TIME_PERIOD,OBS_VALUE,指标\n",
                     ETL_E_DATA, "missing column \"INDICATOR\" (SDMX-CSV 1.0 needs "
                     "REF_AREA, INDICATOR, TIME_PERIOD and OBS_VALUE)", "line 1");
    check_file_error(NOKEYS, "DATAFLOW,REF_AREA,INDICATOR,OBS_VALUE\n", ETL_E_DATA,
                     "missing column \"TIME_PERIOD\" (SDMX-CSV 1.0 needs "
                     "REF_AREA, INDICATOR, TIME_PERIOD and OBS_VALUE)", "line 1");
    check_file_error(NOKEYS, "STRUCTURE,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE\n",
                     ETL_E_DATA, "invalid SDMX-CSV 2.0 header: column 2 is "
                     "\"REF_AREA\", expected STRUCTURE_ID", "line 1");
    check_file_error(NOKEYS, "\nStructure[;]\n", ETL_E_DATA,
                     "invalid SDMX-CSV 2.0 header: column 2 is \"\", expected "
                     "STRUCTURE_ID", "line 2");
    check_file_error("delimiter: semicolon\n", "STRUCTURE[;;STRUCTURE_ID;REF_AREA\n",
                     ETL_E_DATA, "invalid SDMX-CSV 2.0 header: column 1 opens \"[\" "
                     "but never closes it", "line 1");
    /* field numbers of the data records, STRUCTURE[;] being one field */
    check_file_error("delimiter: semicolon\n", "STRUCTURE[;];STRUCTURE_ID;REF_AREA;"
                     "INDICATOR;TIME_PERIOD;OBS_VALUE;Ref_Area\n", ETL_E_DATA,
                     "column \"REF_AREA\" is named twice in the header: \"REF_AREA\" "
                     "(field 3) and \"Ref_Area\" (field 7)", "line 1");
    check_file_error(NOKEYS, "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,"
                     "ref_area\n", ETL_E_DATA,
                     "column \"REF_AREA\" is named twice in the header: \"REF_AREA\" "
                     "(field 2) and \"ref_area\" (field 6)", "line 1");
    check_file_error(NOKEYS, "STRUCTURE,STRUCTURE_ID,COMMENT,REF_AREA,INDICATOR,"
                     "TIME_PERIOD,OBS_VALUE,Comment: c\n", ETL_E_DATA,
                     "column \"COMMENT\" is named twice in the header: \"COMMENT\" "
                     "(field 3) and \"Comment: c\" (field 8)", "line 1");
    check_file_error(NOKEYS, "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,INDICATOR,"
                     "TIME_PERIOD,OBS_VALUE,ACTION\n", ETL_E_DATA,
                     "column \"ACTION\" is named twice in the header: \"ACTION\" "
                     "(field 3) and \"ACTION\" (field 8)", "line 1");
    /* format: sdmx wants an SDMX header; format: csv never sees one */
    check_file_error("format: sdmx\n", "地区,指标,时期,数值\n全国,x,2021,1\n",
                     ETL_E_DATA, "not an SDMX-CSV header: column 1 is \"地区\", "
                     "expected DATAFLOW (SDMX-CSV 1.0) or STRUCTURE (2.0)", "line 1");
    check_file_error("format: csv\n",
                     "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE\n",
                     ETL_E_DATA, "missing column \"region\" (expected a header named "
                     "one of: 地区, region, 省份, 省(区、市))", "line 1");
    {
        struct fx f;
        struct etl_err err;
        static const char text[] = "a,b\n";

        assert_int_equal(fx_open(&f, "format: sdmx\n", &err), 0);
        assert_int_equal(fx_run(&f, text, strlen(text), 0, &err), -1);
        assert_string_equal(err.detail, "the header is \"a,b\"");
        assert_string_equal(err.hint, "set format: auto or csv for a plain CSV file");
        fx_close(&f);
    }
}

/* One configured stage: detection is per file. */
static void
test_sdmx_format_key(void **state)
{
    struct fx f;
    struct etl_err err;

    (void)state;
    assert_int_equal(fx_open(&f, "format: auto\n", &err), 0);
    expect_rows(&f, "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,UNIT_MULT\n"
                "F,r,i,2021,1.5,1\n",
                "2|F,r,i,2021,1.5,1|region=r;indicator=i;period=2021;value=15;|\n");
    expect_rows(&f, "地区,指标,时期,数值,OBS_STATUS\n广东,i,2021,1.5,X\n",
                "2|广东,i,2021,1.5,X|region=广东;indicator=i;period=2021;value=1.5;|\n");
    expect_rows(&f, "\xef\xbb\xbfstructure,structure_id,REF_AREA,INDICATOR,"
                "TIME_PERIOD,OBS_VALUE,OBS_STATUS\nx,y,r,i,2021,1.5,P\n",
                "2|x,y,r,i,2021,1.5,P|region=r;indicator=i;period=2021;value=1.5;"
                "q=provisional;|\n");
    fx_close(&f);
    check("format: sdmx\n",
          "DATAFLOW\tREF_AREA\tINDICATOR\tTIME_PERIOD\tOBS_VALUE\n"
          "F\tr\ti\t2021\t1\n",
          "2|F\tr\ti\t2021\t1|region=r;indicator=i;period=2021;value=1;|\n");
    /* format: csv reads OBS_STATUS as nothing special */
    check("format: csv\ncolumns: {region: REF_AREA, value: OBS_VALUE}\n",
          "DATAFLOW,REF_AREA,INDICATOR,period,OBS_VALUE,UNIT_MULT\n"
          "F,r,i,2021,1,8\n",
          "2|F,r,i,2021,1,8|region=r;indicator=i;period=2021;value=1;|\n");
    check_config_error("format: xml\n",
                       "unknown format \"xml\" (expected auto, csv, sdmx, json, xlsx or xls)", "t.yaml:1:9");
    check_config_error("format: sdmx\ncolumns: {region: 省}\n",
                       "\"columns\" does not apply to format sdmx", "t.yaml:2:10");
}

/* Many SDMX rows: the rewritten values fit the arena, batches as for CSV. */
static void
test_sdmx_batches(void **state)
{
    struct fx f;
    struct etl_err err;
    size_t n = 0, rows = 1300;
    char *text = malloc(rows * 48 + 128);

    (void)state;
    n += (size_t)sprintf(text + n, "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,INDICATOR,"
                         "TIME_PERIOD,OBS_VALUE,UNIT_MULT\n");
    for (size_t i = 0; i < rows; i++) {
        n += (size_t)sprintf(text + n, "d,s,%c,r%zu,i,2021,%zu.5,12\n",
                             i % 2 == 0 ? 'I' : 'D', i, i);
    }
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    assert_int_equal(fx_run(&f, text, n, 4096, &err), 0);
    assert_int_equal(f.rec.rows, rows);
    assert_int_equal(f.rec.batches, 3);
    assert_int_equal(f.rec.rejected, 0);
    assert_non_null(strstr(f.rec.s, "\n1301|d,s,D,r1299,i,2021,1299.5,12|region=r1299;"
                           "indicator=i;period=2021;value=1299500000000000;deleted;|\n"));
    assert_non_null(strstr(f.rec.s, "\n1300|d,s,I,r1298,i,2021,1298.5,12|region=r1298;"
                           "indicator=i;period=2021;value=1298500000000000;|\n"));
    fx_close(&f);
    free(text);
}

/* ---- configuration errors ------------------------------------------------ */

static void
test_config_errors(void **state)
{
    struct fx f;
    struct etl_err err;

    (void)state;
    /* the engine's check with our key table */
    assert_int_equal(fx_open(&f, "delimter: ','\n", &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "unknown key \"delimter\" in stage \"parse\" (parse_csv)");
    assert_string_equal(err.hint, "did you mean \"delimiter\"?");
    assert_string_equal(err.where, "t.yaml:1:1");
    fx_close(&f);
    assert_int_equal(fx_open(&f, "columns: [a, b]\n", &err), -1);
    assert_string_equal(err.msg, "\"columns\" must be a mapping");
    assert_string_equal(err.where, "t.yaml:1:10");
    fx_close(&f);
    check_config_error("delimiter: '|'\n",
                       "unknown delimiter \"|\" (expected auto, \",\", \"\\t\", \";\", "
                       "tab, comma or semicolon)", "t.yaml:1:12");
    check_config_error("encoding: latin1\n",
                       "unknown encoding \"latin1\" (expected auto, utf-8, gb18030 or gbk)",
                       "t.yaml:1:11");
    check_config_error("compression: zip\n",
                       "unknown compression \"zip\" (expected auto, none, gzip or deflate)",
                       "t.yaml:1:14");
    check_config_error("max_record_bytes: 10\n",
                       "10 is out of range (1024 to 67108864)", "t.yaml:1:19");
    check_config_error("max_record_bytes: lots\n",
                       "expected an integer, found \"lots\"", "t.yaml:1:19");
    check_config_error("columns:\n  regoin: 省\n",
                       "unknown column \"regoin\" in \"columns\"", "t.yaml:2:3");
    check_config_error("columns:\n  region: {a: b}\n",
                       "column \"region\" needs a header name or a list of them",
                       "t.yaml:2:11");
    check_config_error("columns:\n  region: []\n",
                       "column \"region\" needs a header name or a list of them",
                       "t.yaml:2:11");
    check_config_error("columns:\n  region: [a, [b]]\n",
                       "column \"region\" needs a header name or a list of them",
                       "t.yaml:2:15");
    check_config_error("columns:\n  region: '  '\n",
                       "header name for column \"region\" is empty or longer than "
                       "255 bytes", "t.yaml:2:11");
    check_config_error("columns:\n  region: [省, 单位]\n",
                       "header name \"单位\" is given for both \"region\" and \"unit\"",
                       "t.yaml:2:15");
    check_config_error("columns:\n  region: [省, x]\n  unit: [X]\n",
                       "header name \"X\" is given for both \"region\" and \"unit\"",
                       "t.yaml:3:10");
    check_config_error("columns:\n  region: [省, ' 省 ']\n",
                       "header name \" 省 \" is given twice for column \"region\"",
                       "t.yaml:2:15");
    check_config_error("columns:\n  region: a\n  region: b\n",
                       "column \"region\" given twice in \"columns\"", "t.yaml:3:3");
}

static void
test_footprint_unconfigured(void **state)
{
    struct etl_stage st;

    (void)state;
    memset(&st, 0, sizeof(st));
    st.kind = &etl_stage_parse_csv;
    assert_int_equal(etl_stage_parse_csv_footprint(&st), 0);
    etl_stage_parse_csv.destroy(&st);   /* never configured */
    assert_string_equal(etl_stage_parse_csv.name, "parse_csv");
    assert_int_equal(etl_stage_parse_csv.consumes, ETL_FLOW_FILE);
    assert_int_equal(etl_stage_parse_csv.produces, ETL_FLOW_ROWS);
}

/* ---- a million rows ----------------------------------------------------- */

static void
test_million_rows(void **state)
{
    enum { ROWS = 1000000, CHUNK = 256 * 1024 };
    struct fx f;
    struct etl_err err;
    char *chunk = malloc(CHUNK + 128);
    size_t n = 0, first = 0, rows = 0;
    struct etl_chunk c;

    (void)state;
    assert_int_equal(fx_open(&f, NOKEYS, &err), 0);
    f.rec.quiet = true;
    assert_int_equal(etl_stage_parse_csv.begin(&f.st, &err), 0);
    n = (size_t)sprintf(chunk, "地区,指标,时期,数值,单位,备注\n");
    while (rows < ROWS) {
        while (rows < ROWS && n < CHUNK) {
            n += (size_t)sprintf(chunk + n, "省%zu,\"指标 %zu\",2021,%zu.5,万元,%s\n",
                                 rows % 31, rows % 18, rows, rows % 1000 == 0 ? "," : "");
            rows++;
        }
        memset(&c, 0, sizeof(c));
        c.bytes = chunk;
        c.len = n;
        assert_int_equal(etl_stage_parse_csv.process(&f.st, &c, &err), 0);
        n = 0;
        if (first == 0) {
            first = etl_stage_parse_csv_footprint(&f.st);
        }
        /* nothing grows with the file */
        assert_int_equal(etl_stage_parse_csv_footprint(&f.st), first);
    }
    assert_int_equal(etl_stage_parse_csv.finish(&f.st, &verdict, &err), 0);
    assert_int_equal(f.rec.rows, ROWS);
    assert_int_equal(f.rec.rejected, ROWS / 1000);   /* the rows with an extra field */
    assert_int_equal(f.rec.last_line, ROWS + 1);
    assert_int_equal(f.rec.finishes, 1);
    assert_int_equal(etl_stage_parse_csv_footprint(&f.st), first);
    /* decoder, tokenizer, one batch and its arena: about 1.1 MiB */
    assert_true(first < 1536 * 1024);
    fx_close(&f);
    free(chunk);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chinese_header),
        cmocka_unit_test(test_english_header),
        cmocka_unit_test(test_columns_key),
        cmocka_unit_test(test_missing_column),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_rows_and_rejects),
        cmocka_unit_test(test_fold_header_names),
        cmocka_unit_test(test_long_record),
        cmocka_unit_test(test_delimiter_and_encoding_keys),
        cmocka_unit_test(test_gzip_gbk),
        cmocka_unit_test(test_decode_error_where),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_downstream_errors),
        cmocka_unit_test(test_chunk_type),
        cmocka_unit_test(test_abort_and_reuse),
        cmocka_unit_test(test_sdmx_10),
        cmocka_unit_test(test_sdmx_20),
        cmocka_unit_test(test_sdmx_labels),
        cmocka_unit_test(test_sdmx_unit_mult),
        cmocka_unit_test(test_sdmx_unit_mult_rejects),
        cmocka_unit_test(test_sdmx_obs_status),
        cmocka_unit_test(test_sdmx_action),
        cmocka_unit_test(test_sdmx_record_rejects),
        cmocka_unit_test(test_sdmx_file_errors),
        cmocka_unit_test(test_sdmx_format_key),
        cmocka_unit_test(test_sdmx_batches),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_footprint_unconfigured),
        cmocka_unit_test(test_million_rows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
