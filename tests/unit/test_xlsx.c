/*
 * test_xlsx.c
 *    Unit tests of etl/xlsx.c and etl/cell.c: the number text, a workbook
 *    written by openpyxl (tests/data/xlsx/book.xlsx, tests/data/xlsx/make.py:
 *    inline strings, merged header, error cell, gaps, two Chinese-named
 *    sheets), and workbooks zipped here from handwritten XML for what
 *    openpyxl does not write: shared strings with rich text and phonetic
 *    runs, 342.30000000000001, cells without r, prefixed elements, entities
 *    and _xHHHH_ escapes, out-of-range string indexes, every error path,
 *    and a 100,000-row sheet read with flat memory.
 *
 *    Records are rendered as one line of text each, as in test_csv.c:
 *        <line>|<raw>|[<field>][<field>]...|<bad>
 *    with CR, LF and tab inside a field shown as \r, \n and \t.
 *    Run from the top of the tree (tests/data/xlsx/book.xlsx).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zip.h>

#include "etl/cell.h"
#include "etl/csv.h"
#include "etl/xlsx.h"
#include "support.h"

#define BOOK "tests/data/xlsx/book.xlsx"
#define NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""
#define SHEET(rows) "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n" \
    "<worksheet " NS "><sheetData>" rows "</sheetData></worksheet>"

static char tmpdir[64];

/* ---- the recording next link ----------------------------------------- */

struct got {
    char *s;
    size_t n, cap;
    size_t records;
    unsigned long last_line;
    long fail_at;                   /* fail at this record (1-based) */
    bool keep;                      /* render the records */
    struct etl_xlsx *x;             /* sample its footprint */
    size_t fp_early, fp_late;
};

static void
got_add(struct got *g, const char *p, size_t n)
{
    if (g->n + n + 1 > g->cap) {
        g->cap = (g->n + n + 1) * 2;
        g->s = realloc(g->s, g->cap);
        assert_non_null(g->s);
    }
    memcpy(g->s + g->n, p, n);
    g->n += n;
    g->s[g->n] = '\0';
}

static void
got_text(struct got *g, const char *p, size_t n, bool tabs)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            got_add(g, "\\n", 2);
        } else if (p[i] == '\r') {
            got_add(g, "\\r", 2);
        } else if (p[i] == '\t' && tabs) {
            got_add(g, "\\t", 2);
        } else {
            got_add(g, p + i, 1);
        }
    }
}

static void
got_clear(struct got *g)
{
    free(g->s);
    memset(g, 0, sizeof(*g));
    g->keep = true;
}

static int
sink_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    struct got *g = st->ctx;
    const struct etl_csv_record *rec = in->data;
    char num[32];

    assert_ptr_equal(in->type, &etl_chunk_record_type);
    assert_int_equal(in->len, rec->nfields);
    g->records++;
    g->last_line = rec->line;
    if (g->x != NULL && g->records == 1000) {
        g->fp_early = etl_xlsx_footprint(g->x);
    }
    if (g->x != NULL) {
        g->fp_late = etl_xlsx_footprint(g->x);
    }
    if (g->fail_at > 0 && (long)g->records == g->fail_at) {
        return etl_err_set(err, ETL_E_DB, "sink refused row %lu", rec->line);
    }
    assert_int_equal(strlen(rec->raw), rec->raw_len);
    if (!g->keep) {
        return 0;
    }
    snprintf(num, sizeof(num), "%lu|", rec->line);
    got_add(g, num, strlen(num));
    got_text(g, rec->raw, rec->raw_len, false);
    got_add(g, "|", 1);
    for (size_t i = 0; i < rec->nfields; i++) {
        assert_int_equal(strlen(rec->fields[i]), rec->lens[i]);
        got_add(g, "[", 1);
        got_text(g, rec->fields[i], rec->lens[i], true);
        got_add(g, "]", 1);
    }
    got_add(g, "|", 1);
    if (rec->bad != NULL) {
        got_add(g, rec->bad, strlen(rec->bad));
    }
    got_add(g, "\n", 1);
    return 0;
}

static const struct etl_stage_kind sink_kind = {
    .name = "sink", .process = sink_process,
};

static struct etl_stage sink_link = { .kind = &sink_kind, .name = (char *)"sink" };

/* Read 'path' (sheet 'sheet') into 'g'; returns etl_xlsx_read's result. */
static int
read_book(const char *path, const char *sheet, size_t max, struct got *g,
          struct etl_err *err)
{
    struct etl_xlsx *x;
    int rc;

    etl_err_clear(err);
    sink_link.ctx = g;
    x = etl_xlsx_new(&sink_link, err);
    assert_non_null(x);
    rc = etl_xlsx_read(x, path, sheet, max, err);
    etl_xlsx_free(x);
    return rc;
}

/* ---- zipping handwritten workbooks ------------------------------------ */

static const char *
tmp(const char *name)
{
    static char path[4][128];
    static int k;

    k = (k + 1) % 4;
    snprintf(path[k], sizeof(path[k]), "%s/%s", tmpdir, name);
    return path[k];
}

/* A zip of members { name, text, name, text, ..., NULL }; 'stored' or deflated. */
static void
write_zip(const char *path, const char *const *m, bool stored)
{
    zipFile z = zipOpen64(path, APPEND_STATUS_CREATE);

    assert_non_null(z);
    for (size_t i = 0; m[i] != NULL; i += 2) {
        zip_fileinfo zi;

        memset(&zi, 0, sizeof(zi));
        assert_int_equal(zipOpenNewFileInZip(z, m[i], &zi, NULL, 0, NULL, 0, NULL,
                                             stored ? 0 : Z_DEFLATED,
                                             stored ? 0 : Z_DEFAULT_COMPRESSION), ZIP_OK);
        assert_int_equal(zipWriteInFileInZip(z, m[i + 1], (unsigned)strlen(m[i + 1])),
                         ZIP_OK);
        assert_int_equal(zipCloseFileInZip(z), ZIP_OK);
    }
    assert_int_equal(zipClose(z, NULL), ZIP_OK);
}

/*
 * A workbook of sheets 'names' (n of them, XML 'xml'), shared strings 'sst'
 * (NULL: none), in 'path'.
 */
static void
write_book(const char *path, size_t n, const char *const *names, const char *const *xml,
           const char *sst)
{
    char wb[2048], rels[2048], mname[8][64];
    const char *m[32];
    size_t k = 0, w, r;

    assert_true(n <= 8);
    w = (size_t)snprintf(wb, sizeof(wb),
                         "<?xml version=\"1.0\"?>\n<workbook " NS " xmlns:r=\"http://"
                         "schemas.openxmlformats.org/officeDocument/2006/relationships\">"
                         "<sheets>");
    r = (size_t)snprintf(rels, sizeof(rels),
                         "<?xml version=\"1.0\"?>\n<Relationships xmlns=\"http://schemas."
                         "openxmlformats.org/package/2006/relationships\">");
    for (size_t i = 0; i < n; i++) {
        w += (size_t)snprintf(wb + w, sizeof(wb) - w,
                              "<sheet name=\"%s\" sheetId=\"%zu\" r:id=\"rId%zu\"/>",
                              names[i], i + 1, i + 1);
        r += (size_t)snprintf(rels + r, sizeof(rels) - r,
                              "<Relationship Id=\"rId%zu\" Type=\"http://schemas."
                              "openxmlformats.org/officeDocument/2006/relationships/"
                              "worksheet\" Target=\"worksheets/sheet%zu.xml\"/>", i + 1, i + 1);
        snprintf(mname[i], sizeof(mname[i]), "xl/worksheets/sheet%zu.xml", i + 1);
    }
    snprintf(wb + w, sizeof(wb) - w, "</sheets></workbook>");
    if (sst != NULL) {
        r += (size_t)snprintf(rels + r, sizeof(rels) - r,
                              "<Relationship Id=\"rId99\" Type=\"http://schemas."
                              "openxmlformats.org/officeDocument/2006/relationships/"
                              "sharedStrings\" Target=\"sharedStrings.xml\"/>");
    }
    snprintf(rels + r, sizeof(rels) - r, "</Relationships>");
    m[k++] = "xl/workbook.xml";
    m[k++] = wb;
    m[k++] = "xl/_rels/workbook.xml.rels";
    m[k++] = rels;
    if (sst != NULL) {
        m[k++] = "xl/sharedStrings.xml";
        m[k++] = sst;
    }
    for (size_t i = 0; i < n; i++) {
        m[k++] = mname[i];
        m[k++] = xml[i];
    }
    m[k] = NULL;
    write_zip(path, m, false);
}

/* A one-sheet workbook "S" of 'xml' with shared strings 'sst'. */
static const char *
one_sheet(const char *name, const char *xml, const char *sst)
{
    const char *path = tmp(name);
    const char *names[] = { "S" };

    write_book(path, 1, names, &xml, sst);
    return path;
}

/* ---- numbers ---------------------------------------------------------- */

static void
test_number_format(void **state)
{
    static const struct {
        double v;
        const char *s;
    } cases[] = {
        { 342.30000000000001, "342.3" },
        { 342.3, "342.3" },
        { 2193, "2193" },
        { 0.000123, "0.000123" },
        { 1005400000000.0, "1005400000000" },
        { -5, "-5" },
        { 0, "0" },
        { -0.0, "0" },
        { 1e-7, "0.0000001" },
        { 1e20, "100000000000000000000" },
        { 123456789012345678.0, "123456789012346000" },
        { 0.1 + 0.2, "0.3" },
        { 926.3, "926.3" },
        { -0.5, "-0.5" },
        { 1.0 / 3, "0.333333333333333" },
        { 99999999999999.99, "100000000000000" },
        { 12345678901.234567, "12345678901.2346" },
        { 999999999999999.9, "1000000000000000" },
        { 2.5e-300, NULL },
    };
    char buf[ETL_CELL_NUMBER_SIZE], col[4];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = etl_cell_number_format(cases[i].v, buf, sizeof(buf));

        if (cases[i].s == NULL) {
            assert_int_equal(n, 2 + 299 + 2);   /* "0." 299 zeros "25" */
            assert_memory_equal(buf, "0.000", 5);
            assert_string_equal(buf + 301, "25");
            continue;
        }
        assert_int_equal(n, strlen(cases[i].s));
        assert_string_equal(buf, cases[i].s);
    }
    assert_int_equal(etl_cell_number_format(-1.7976931348623157e308, buf, sizeof(buf)), 310);
    assert_int_equal(etl_cell_number_format(0.0 / 0.0, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    assert_int_equal(etl_cell_number_format(1.0 / 0.0, buf, sizeof(buf)), -1);
    assert_int_equal(etl_cell_number_format(342.3, buf, 5), -1);
    assert_string_equal(buf, "");
    assert_int_equal(etl_cell_number_format(342.3, buf, 6), 5);

    etl_cell_column_name(0, col);
    assert_string_equal(col, "A");
    etl_cell_column_name(25, col);
    assert_string_equal(col, "Z");
    etl_cell_column_name(26, col);
    assert_string_equal(col, "AA");
    etl_cell_column_name(701, col);
    assert_string_equal(col, "ZZ");
    etl_cell_column_name(702, col);
    assert_string_equal(col, "AAA");
    etl_cell_column_name(16383, col);
    assert_string_equal(col, "XFD");
}

/* ---- the openpyxl workbook ------------------------------------------- */

static void
test_openpyxl_book(void **state)
{
    struct etl_err err;
    struct got g = { 0 };

    (void)state;
    got_clear(&g);
    assert_int_equal(read_book(BOOK, NULL, 0, &g, &err), 0);
    assert_string_equal(g.s,
        "1|地区\t2021年\t2021年\t备注|[地区][2021年][2021年][备注]|\n"
        "2|\t引导企业(家)\t投资(亿元)|[][引导企业(家)][投资(亿元)]|\n"
        "3|全国\t2193\t342.3\t#N/A|[全国][2193][342.3][#N/A]|cell D3 holds the error #N/A\n"
        "4|广东\tTRUE\t0.000123\ta & <b>\\r\\nline|[广东][TRUE][0.000123][a & <b>\\r\\nline]|\n"
        "6|\tb\t\td|[][b][][d]|\n"
        "7|1005400000000\t-5\t100000000000000000000|"
        "[1005400000000][-5][100000000000000000000]|\n"
        "8|合计\t1|[合计][1]|\n"
        "9|合计\t2|[合计][2]|\n");
    assert_int_equal(g.records, 8);
    got_clear(&g);
    free(g.s);
}

static void
test_select_sheet(void **state)
{
    static const char *const second =
        "1|省份\t数值|[省份][数值]|\n"
        "2|四川\t926.3|[四川][926.3]|\n";
    struct etl_err err;
    struct got g = { 0 };

    (void)state;
    got_clear(&g);
    assert_int_equal(read_book(BOOK, "分省", 0, &g, &err), 0);
    assert_string_equal(g.s, second);
    got_clear(&g);
    assert_int_equal(read_book(BOOK, "2", 0, &g, &err), 0);
    assert_string_equal(g.s, second);
    got_clear(&g);
    assert_int_equal(read_book(BOOK, "1", 0, &g, &err), 0);
    assert_int_equal(g.records, 8);
    got_clear(&g);
    assert_int_equal(read_book(BOOK, "汇总", 0, &g, &err), 0);
    assert_int_equal(g.records, 8);
    free(g.s);
}

static void
test_missing_sheet(void **state)
{
    static const char *const names[] = { "X", "3", "0", "", "01x" };
    struct etl_err err;
    struct got g = { 0 };
    char want[256];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        got_clear(&g);
        assert_int_equal(read_book(BOOK, names[i], 0, &g, &err), -1);
        assert_int_equal(err.code, ETL_E_DATA);
        snprintf(want, sizeof(want), "no sheet \"%s\" in the workbook (sheets: 汇总, 分省)",
                 names[i]);
        assert_string_equal(err.msg, want);
        assert_string_equal(err.where, "");
        assert_int_equal(g.records, 0);
    }
    free(g.s);
}

/* A name that is digits wins over the position; many names are cut. */
static void
test_sheet_names(void **state)
{
    const char *names[8] = { "2", "first", "Ω" };
    const char *xml[8];
    char long_names[8][64];
    struct etl_err err;
    struct got g = { 0 };
    const char *path = tmp("names.xlsx");

    (void)state;
    xml[0] = SHEET("<row r=\"1\"><c t=\"inlineStr\"><is><t>zero</t></is></c></row>");
    xml[1] = SHEET("<row r=\"1\"><c t=\"inlineStr\"><is><t>one</t></is></c></row>");
    xml[2] = SHEET("<row r=\"1\"><c t=\"inlineStr\"><is><t>two</t></is></c></row>");
    write_book(path, 3, names, xml, NULL);
    got_clear(&g);
    assert_int_equal(read_book(path, "2", 0, &g, &err), 0);
    assert_string_equal(g.s, "1|zero|[zero]|\n");
    got_clear(&g);
    assert_int_equal(read_book(path, "3", 0, &g, &err), 0);
    assert_string_equal(g.s, "1|two|[two]|\n");
    got_clear(&g);
    assert_int_equal(read_book(path, "Ω", 0, &g, &err), 0);
    assert_string_equal(g.s, "1|two|[two]|\n");

    for (size_t i = 0; i < 8; i++) {
        snprintf(long_names[i], sizeof(long_names[i]), "a sheet with a long name number %zu", i);
        names[i] = long_names[i];
        xml[i] = xml[0];
    }
    write_book(path, 8, names, xml, NULL);
    got_clear(&g);
    assert_int_equal(read_book(path, "nope", 0, &g, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg,
        "no sheet \"nope\" in the workbook (sheets: a sheet with a long name number 0, "
        "a sheet with a long name number 1, a sheet with a long name number 2, "
        "a sheet with a long name number 3, a sheet with a long name number 4, ...)");
    free(g.s);
}

/* ---- handwritten XML -------------------------------------------------- */

static const char sst_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<sst " NS " count=\"7\" uniqueCount=\"7\">"
    "<si><t>地区</t></si>"                                             /* 0 */
    "<si><r><rPr><b/></rPr><t>实际到位</t></r><r><t xml:space=\"preserve\"> 投资额"
    "</t></r><rPh sb=\"0\" eb=\"2\"><t>ジッサイ</t></rPh></si>"          /* 1 */
    "<si><t xml:space=\"preserve\">  lead &amp; &lt;tail&gt; </t></si>"  /* 2 */
    "<si><t>line1\r\nline2_x000D_&#10;3</t></si>"                      /* 3 */
    "<si><t/></si>"                                                    /* 4 */
    "<si><t>_x005F_x0041_ _x0041_ _xD83D__xDE00_ _x12_</t></si>"       /* 5 */
    "<si><t>342.3</t><rPh><t>x</t></rPh></si>"                         /* 6 */
    "</sst>";

static void
test_shared_and_inline(void **state)
{
    struct etl_err err;
    struct got g = { 0 };
    const char *path = one_sheet("sst.xlsx", SHEET(
        "<dimension ref=\"A1:C9\"/>"
        "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
        "<c r=\"C1\" t=\"s\"><v>6</v></c></row>"
        "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\" t=\"s\"><v>3</v></c>"
        "<c r=\"C2\" t=\"s\"><v>4</v></c><c r=\"D2\" t=\"s\"><v>5</v></c></row>"
        "<row r=\"3\"><c r=\"A3\" s=\"1\"><v>342.30000000000001</v></c>"
        "<c r=\"B3\" t=\"n\"><v>1.23E-4</v></c><c r=\"C3\"><v>123456789012345678</v></c>"
        "<c r=\"D3\" t=\"str\"><f>A3*2</f><v>684.6 &amp; more</v></c></row>"
        "<row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><r><t>富</t></r><r><t>民</t></r>"
        "<rPh><t>フミン</t></rPh></is></c><c r=\"B4\" t=\"b\"><v>0</v></c>"
        "<c r=\"C4\" t=\"d\"><v>2021-06-30T00:00:00</v></c></row>"
        "<row r=\"5\"><c r=\"A5\" t=\"s\"><v>7</v></c><c r=\"B5\" t=\"inlineStr\">"
        "<is><t>ok</t></is></c></row>"
        "<row r=\"6\"><c r=\"B6\" t=\"e\"><v>#DIV/0!</v></c><c r=\"C6\" t=\"e\">"
        "<v>#N/A</v></c></row>"
        "<row r=\"7\"><c r=\"A7\"><v>12x</v></c><c r=\"B7\" t=\"b\"><v>2</v></c>"
        "<c r=\"C7\" t=\"q\"><v>?</v></c></row>"
        "<row r=\"8\"><c r=\"A8\" t=\"s\"><v>-1</v></c></row>"
        "<row r=\"9\" spans=\"1:3\"><c r=\"A9\" s=\"3\"/><c r=\"B9\" t=\"s\"/></row>"),
        sst_xml);

    (void)state;
    got_clear(&g);
    assert_int_equal(read_book(path, NULL, 0, &g, &err), 0);
    assert_string_equal(g.s,
        "1|地区\t实际到位 投资额\t342.3|[地区][实际到位 投资额][342.3]|\n"
        "2|  lead & <tail> \tline1\\nline2\\r\\n3\t\t_x0041_ A \xF0\x9F\x98\x80 _x12_|"
        "[  lead & <tail> ][line1\\nline2\\r\\n3][][_x0041_ A \xF0\x9F\x98\x80 _x12_]|\n"
        "3|342.3\t0.000123\t123456789012346000\t684.6 & more|"
        "[342.3][0.000123][123456789012346000][684.6 & more]|\n"
        "4|富民\tFALSE\t2021-06-30T00:00:00|[富民][FALSE][2021-06-30T00:00:00]|\n"
        "5|\tok|[][ok]|cell A5 holds the shared string index 7, beyond the table's 7 strings\n"
        "6|\t#DIV/0!\t#N/A|[][#DIV/0!][#N/A]|cell B6 holds the error #DIV/0!\n"
        "7|12x\t2\t?|[12x][2][?]|cell A7 holds the invalid number \"12x\"\n"
        "8||[]|cell A8 holds the shared string index -1, beyond the table's 7 strings\n");
    free(g.s);
}

/*
 * No <dimension>, no r on rows or cells, prefixed elements, a bad reference,
 * columns up to XFD and past it, <c> out of order.
 */
static void
test_positions(void **state)
{
    struct etl_err err;
    struct got g = { 0 };
    const char *path = one_sheet("pos.xlsx",
        "<x:worksheet xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
        "<x:sheetData>"
        "<x:row><x:c><x:v>1</x:v></x:c><x:c/><x:c><x:v>3</x:v></x:c></x:row>"
        "<x:row r=\"5\"><x:c r=\"C5\"><x:v>c</x:v></x:c><x:c><x:v>4</x:v></x:c></x:row>"
        "<x:row><x:c r=\"B6\" t=\"inlineStr\"><x:is><x:t>b</x:t></x:is></x:c>"
        "<x:c r=\"A6\" t=\"inlineStr\"><x:is><x:t>a</x:t></x:is></x:c></x:row>"
        "<x:row r=\"7\"><x:c r=\"3B\"><x:v>1</x:v></x:c><x:c r=\"A7\"><x:v>2</x:v></x:c>"
        "</x:row>"
        "<x:row r=\"8\"><x:c r=\"XFE8\"><x:v>1</x:v></x:c></x:row>"
        "<x:row r=\"9\"><x:c r=\"XFD9\"><x:v>9</x:v></x:c></x:row>"
        "</x:sheetData></x:worksheet>", NULL);
    const char *p;

    (void)state;
    got_clear(&g);
    assert_int_equal(read_book(path, NULL, 0, &g, &err), 0);
    /* the XFD row: 16383 empty fields then "9" */
    p = strstr(g.s, "9|");
    assert_non_null(p);
    assert_int_equal(strlen(p), 2 + 16383 + 1 + 1 + 16383 * 2 + 3 + 2);
    *(char *)p = '\0';
    assert_string_equal(g.s,
        "1|1\t\t3|[1][][3]|\n"
        "5|\t\tc\t4|[][][c][4]|cell C5 holds the invalid number \"c\"\n"
        "6|a\tb|[a][b]|\n"
        "7|2|[2]|invalid cell reference \"3B\" in row 7\n"
        "8||[]|invalid cell reference \"XFE8\" in row 8\n");
    free(g.s);
}

static void
test_merged(void **state)
{
    struct etl_err err;
    struct got g = { 0 };
    const char *path = one_sheet("merged.xlsx", SHEET(
        "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>地区</t></is></c>"
        "<c r=\"B1\" t=\"inlineStr\"><is><t>2021年</t></is></c><c r=\"C1\"/>"
        "<c r=\"D1\" t=\"inlineStr\"><is><t>2022年</t></is></c></row>"
        "<row r=\"2\"><c r=\"B2\"><v>1</v></c><c r=\"C2\"><v>2</v></c>"
        "<c r=\"D2\"><v>3</v></c><c r=\"E2\"><v>4</v></c></row>"
        "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>广东</t></is></c>"
        "<c r=\"B3\"><v>5</v></c></row>"
        "<row r=\"4\"><c r=\"B4\"><v>6</v></c></row>"
        "<row r=\"6\"><c r=\"B6\"><v>7</v></c><c r=\"C6\"><v>8</v></c></row>"
        "<row r=\"7\"><c r=\"B7\"><v>9</v></c></row>"), NULL);
    const char *xml = "<worksheet " NS "><sheetData>"
        "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>地区</t></is></c>"
        "<c r=\"B1\" t=\"inlineStr\"><is><t>2021年</t></is></c><c r=\"C1\"/>"
        "<c r=\"D1\" t=\"inlineStr\"><is><t>2022年</t></is></c></row>"
        "<row r=\"2\"><c r=\"B2\"><v>1</v></c><c r=\"C2\"><v>2</v></c>"
        "<c r=\"D2\"><v>3</v></c><c r=\"E2\"><v>4</v></c></row>"
        "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>广东</t></is></c>"
        "<c r=\"B3\"><v>5</v></c></row>"
        "<row r=\"4\"><c r=\"B4\"><v>6</v></c></row>"
        "<row r=\"6\"><c r=\"B6\"><v>7</v></c><c r=\"C6\"><v>8</v></c></row>"
        "<row r=\"7\"><c r=\"B7\"><v>9</v></c></row>"
        "</sheetData><mergeCells count=\"6\">"
        "<mergeCell ref=\"D1:E1\"/><mergeCell ref=\"B1:C1\"/><mergeCell ref=\"A3:A4\"/>"
        "<mergeCell ref=\"A5:C7\"/><mergeCell ref=\"F9\"/><mergeCell ref=\"Q:Z\"/>"
        "</mergeCells></worksheet>";

    (void)state;
    /* without the ranges: as written */
    got_clear(&g);
    assert_int_equal(read_book(path, NULL, 0, &g, &err), 0);
    assert_string_equal(g.s,
        "1|地区\t2021年\t\t2022年|[地区][2021年][][2022年]|\n"
        "2|\t1\t2\t3\t4|[][1][2][3][4]|\n"
        "3|广东\t5|[广东][5]|\n"
        "4|\t6|[][6]|\n"
        "6|\t7\t8|[][7][8]|\n"
        "7|\t9|[][9]|\n");
    /* with them: the top-left text in every empty cell of the range; a
     * range whose first row is absent has no text to give */
    path = one_sheet("merged2.xlsx", xml, NULL);
    got_clear(&g);
    assert_int_equal(read_book(path, NULL, 0, &g, &err), 0);
    assert_string_equal(g.s,
        "1|地区\t2021年\t2021年\t2022年\t2022年|[地区][2021年][2021年][2022年][2022年]|\n"
        "2|\t1\t2\t3\t4|[][1][2][3][4]|\n"
        "3|广东\t5|[广东][5]|\n"
        "4|广东\t6|[广东][6]|\n"
        "6|\t7\t8|[][7][8]|\n"
        "7|\t9|[][9]|\n");
    free(g.s);
}

static void
test_too_long(void **state)
{
    struct etl_err err;
    struct got g = { 0 };
    const char *path = one_sheet("long.xlsx", SHEET(
        "<row r=\"1\"><c t=\"inlineStr\"><is><t>abc</t></is></c>"
        "<c t=\"inlineStr\"><is><t>地区地区</t></is></c></row>"
        "<row r=\"2\"><c t=\"inlineStr\"><is><t>abcdefghijklmnop</t></is></c>"
        "<c><v>1</v></c></row>"
        "<row r=\"3\"><c><v>1</v></c><c><v>2</v></c><c><v>3</v></c></row>"), NULL);

    (void)state;
    got_clear(&g);
    assert_int_equal(read_book(path, NULL, 10, &g, &err), 0);
    assert_string_equal(g.s,
        "1|abc\t地区|[abc]|record longer than 10 bytes\n"
        "2|abcdefghij|[]|record longer than 10 bytes\n"
        "3|1\t2\t3|[1][2][3]|\n");
    free(g.s);
}

/* ---- errors ----------------------------------------------------------- */

static void
expect_error(const char *path, const char *sheet, enum etl_errcode code, const char *msg,
             const char *where)
{
    struct etl_err err;
    struct got g = { 0 };

    got_clear(&g);
    assert_int_equal(read_book(path, sheet, 0, &g, &err), -1);
    assert_int_equal(err.code, code);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, where);
    free(g.s);
}

/* Copy the first 'n' bytes of 'from' to 'to' (n 0: all), byte 'at' set to 'b'. */
static void
copy_file(const char *from, const char *to, long n, long at, int b)
{
    FILE *f = fopen(from, "rb"), *t = fopen(to, "wb");
    long i = 0;
    int c;

    assert_non_null(f);
    assert_non_null(t);
    while ((c = getc(f)) != EOF && (n == 0 || i < n)) {
        putc(i == at ? b : c, t);
        i++;
    }
    fclose(f);
    fclose(t);
}

/* Offset of the data of zip member 'name' in 'path' (local header). */
static long
member_data(const char *path, const char *name)
{
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    size_t n, len = strlen(name);

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    for (size_t i = 0; i + 30 + len < n; i++) {
        if (memcmp(buf + i, "PK\3\4", 4) == 0 && memcmp(buf + i + 30, name, len) == 0) {
            unsigned nl = (unsigned char)buf[i + 26] | (unsigned char)buf[i + 27] << 8;
            unsigned el = (unsigned char)buf[i + 28] | (unsigned char)buf[i + 29] << 8;

            return (long)(i + 30 + nl + el);
        }
    }
    fail_msg("no member %s in %s", name, path);
    return -1;
}

static void
test_file_errors(void **state)
{
    char msg[256];
    const char *path;
    FILE *f;

    (void)state;
    path = tmp("absent.xlsx");
    snprintf(msg, sizeof(msg), "could not open workbook \"%s\": No such file or directory", path);
    expect_error(path, NULL, ETL_E_IO, msg, "");

    /* truncated: the central directory is gone */
    path = tmp("truncated.xlsx");
    copy_file(BOOK, path, 3000, -1, 0);
    snprintf(msg, sizeof(msg), "\"%s\" is not a zip archive, or a truncated one", path);
    expect_error(path, NULL, ETL_E_DATA, msg, "");

    path = tmp("text.xlsx");
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("region,value\n全国,1\n", f);
    fclose(f);
    snprintf(msg, sizeof(msg), "\"%s\" is not a zip archive, or a truncated one", path);
    expect_error(path, NULL, ETL_E_DATA, msg, "");

    path = tmp("empty.xlsx");
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(msg, sizeof(msg), "\"%s\" is not a zip archive, or a truncated one", path);
    expect_error(path, NULL, ETL_E_DATA, msg, "");
}

static void
test_member_errors(void **state)
{
    const char *sheet = SHEET("<row r=\"1\"><c><v>1</v></c></row>");
    const char *path = tmp("members.xlsx");
    const char *wb = "<workbook " NS " xmlns:r=\"r\"><sheets>"
                     "<sheet name=\"S\" r:id=\"rId1\"/><sheet name=\"C\" r:id=\"rId2\"/>"
                     "<sheet name=\"N\" r:id=\"rId3\"/></sheets></workbook>";
    const char *rels = "<Relationships xmlns=\"rels\">"
        "<Relationship Id=\"rId1\" Type=\"http://x/worksheet\" Target=\"worksheets/s.xml\"/>"
        "<Relationship Id=\"rId2\" Type=\"http://x/chartsheet\" Target=\"chartsheets/c.xml\"/>"
        "</Relationships>";
    long at;

    (void)state;
    {
        const char *m[] = { "docProps/app.xml", "<x/>", NULL };

        write_zip(path, m, false);
        expect_error(path, NULL, ETL_E_DATA,
                     "the zip archive has no member xl/workbook.xml: not an xlsx workbook", "");
    }
    {
        const char *m[] = { "xl/workbook.xml", wb, NULL };

        write_zip(path, m, false);
        expect_error(path, NULL, ETL_E_DATA,
                     "the workbook has no member xl/_rels/workbook.xml.rels", "");
    }
    {
        const char *m[] = { "xl/workbook.xml", wb, "xl/_rels/workbook.xml.rels", rels, NULL };

        write_zip(path, m, false);
        expect_error(path, NULL, ETL_E_DATA,
                     "the workbook has no member xl/worksheets/s.xml", "");
        expect_error(path, "C", ETL_E_DATA, "sheet \"C\" is a chart, not a worksheet", "");
        expect_error(path, "N", ETL_E_DATA,
                     "sheet \"N\" has no worksheet in xl/_rels/workbook.xml.rels", "");
    }
    {
        const char *m[] = { "xl/workbook.xml", "<workbook><sheets/></workbook>",
                            "xl/_rels/workbook.xml.rels", rels, NULL };

        write_zip(path, m, false);
        expect_error(path, NULL, ETL_E_DATA, "the workbook has no sheets", "");
    }
    /* the rels name shared strings that are not there */
    path = one_sheet("nosst.xlsx", sheet, "<sst/>");
    {
        const char *m[] = { "xl/workbook.xml", "<workbook " NS " xmlns:r=\"r\"><sheets>"
                            "<sheet name=\"S\" r:id=\"rId1\"/></sheets></workbook>",
                            "xl/_rels/workbook.xml.rels", "<Relationships>"
                            "<Relationship Id=\"rId1\" Type=\"a/worksheet\" Target=\"/s.xml\"/>"
                            "<Relationship Id=\"rId2\" Type=\"a/sharedStrings\" "
                            "Target=\"../xl/./strings.xml\"/></Relationships>",
                            "s.xml", sheet, NULL };

        write_zip(path, m, false);
        expect_error(path, NULL, ETL_E_DATA, "the workbook has no member xl/strings.xml", "");
    }
    /* deflate data that does not inflate: the first block's type is invalid */
    path = one_sheet("inflate.xlsx", sheet, NULL);
    at = member_data(path, "xl/worksheets/sheet1.xml");
    copy_file(path, tmp("inflate2.xlsx"), 0, at, 0xff);
    expect_error(tmp("inflate2.xlsx"), NULL, ETL_E_DATA,
                 "could not inflate member xl/worksheets/sheet1.xml of the workbook: "
                 "corrupt deflate data (-3)", "");
    /* a stored member with a changed byte: its CRC fails */
    {
        const char *m[] = { "xl/workbook.xml", "<workbook xmlns:r=\"r\"><sheets>"
                            "<sheet name=\"S\" r:id=\"rId1\"/></sheets></workbook>",
                            "xl/_rels/workbook.xml.rels", "<Relationships>"
                            "<Relationship Id=\"rId1\" Type=\"a/worksheet\" "
                            "Target=\"s.xml\"/></Relationships>",
                            "xl/s.xml", "<worksheet><sheetData><row><c><v>1</v></c></row>"
                            "</sheetData></worksheet>", NULL };

        path = tmp("crc.xlsx");
        write_zip(path, m, true);
        at = member_data(path, "xl/s.xml");
        copy_file(path, tmp("crc2.xlsx"), 0, at + 33, '7');
        expect_error(tmp("crc2.xlsx"), NULL, ETL_E_DATA,
                     "member xl/s.xml of the workbook is corrupt: CRC mismatch (-105)", "");
    }
}

static void
test_xml_errors(void **state)
{
    const char *names[] = { "S" };
    const char *xml[1];
    const char *path = tmp("xml.xlsx");
    struct etl_err err;
    struct got g = { 0 };

    (void)state;
    xml[0] = "<worksheet><sheetData>\n<row r=\"1\"><c><v>1</v></c></row>\n"
             "<row r=\"2\"><c><v>2</v></c></row>\n  <row <</sheetData></worksheet>";
    write_book(path, 1, names, xml, NULL);
    got_clear(&g);
    assert_int_equal(read_book(path, NULL, 0, &g, &err), -1);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "not well-formed (invalid token)");
    assert_string_equal(err.where, "xl/worksheets/sheet1.xml:4:8");
    /* the merged-range pass sees the error before any row is pushed */
    assert_int_equal(g.records, 0);
    free(g.s);

    xml[0] = SHEET("<row><c><v>1</v></c></row>");
    write_book(path, 1, names, xml, "<sst><si><t>a</si></sst>");
    expect_error(path, NULL, ETL_E_DATA, "mismatched tag", "xl/sharedStrings.xml:1:16");
    xml[0] = SHEET("</row>");
    write_book(path, 1, names, xml, NULL);
    expect_error(path, NULL, ETL_E_DATA, "mismatched tag", "xl/worksheets/sheet1.xml:2:91");
    xml[0] = "";
    write_book(path, 1, names, xml, NULL);
    expect_error(path, NULL, ETL_E_DATA, "no element found", "xl/worksheets/sheet1.xml:1:1");
    xml[0] = SHEET("<row><c t=\"inlineStr\"><is><t>&undefined;</t></is></c></row>");
    write_book(path, 1, names, xml, NULL);
    expect_error(path, NULL, ETL_E_DATA, "undefined entity", "xl/worksheets/sheet1.xml:2:118");
}

/* The next link's error stops the read and comes back as it is. */
static void
test_link_error(void **state)
{
    struct etl_err err;
    struct got g = { 0 };

    (void)state;
    got_clear(&g);
    g.fail_at = 2;
    assert_int_equal(read_book(BOOK, NULL, 0, &g, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_string_equal(err.msg, "sink refused row 2");
    assert_string_equal(err.where, "");
    assert_int_equal(g.records, 2);
    free(g.s);
}

static void
test_magic(void **state)
{
    (void)state;
    assert_true(etl_xlsx_magic("PK\3\4\24\0", 6));
    assert_false(etl_xlsx_magic("PK\3", 3));
    assert_false(etl_xlsx_magic("PK\5\6", 4));
    assert_false(etl_xlsx_magic("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8));
    etl_xlsx_free(NULL);
}

/*
 * 100,000 rows, written in pieces: every record comes, and the reader's
 * footprint at the last row is what it was at row 1000.
 */
static void
test_stream_100k(void **state)
{
    const char *path = tmp("big.xlsx");
    zipFile z;
    zip_fileinfo zi;
    char row[256];
    struct etl_err err;
    struct got g = { 0 };
    struct etl_xlsx *x;
    static const char head[] = "<worksheet " NS "><sheetData>";
    static const char tail[] = "</sheetData><mergeCells><mergeCell ref=\"A1:B1\"/>"
                               "</mergeCells></worksheet>";

    static const char *const m[] = {
        "xl/workbook.xml", "<workbook xmlns:r=\"r\"><sheets><sheet name=\"big\" "
        "r:id=\"rId7\"/></sheets></workbook>",
        "xl/_rels/workbook.xml.rels", "<Relationships><Relationship Id=\"rId7\" "
        "Type=\"a/worksheet\" Target=\"worksheets/big.xml\"/><Relationship Id=\"rId8\" "
        "Type=\"a/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>",
        "xl/sharedStrings.xml", "<sst><si><t>全国</t></si><si><t>广东</t></si></sst>",
        NULL };

    (void)state;
    z = zipOpen64(path, APPEND_STATUS_CREATE);
    assert_non_null(z);
    memset(&zi, 0, sizeof(zi));
    for (size_t i = 0; m[i] != NULL; i += 2) {
        assert_int_equal(zipOpenNewFileInZip(z, m[i], &zi, NULL, 0, NULL, 0, NULL,
                                             Z_DEFLATED, 1), ZIP_OK);
        assert_int_equal(zipWriteInFileInZip(z, m[i + 1], (unsigned)strlen(m[i + 1])),
                         ZIP_OK);
        assert_int_equal(zipCloseFileInZip(z), ZIP_OK);
    }
    /* the sheet, written a row at a time */
    assert_int_equal(zipOpenNewFileInZip(z, "xl/worksheets/big.xml", &zi, NULL, 0, NULL, 0,
                                         NULL, Z_DEFLATED, 1), ZIP_OK);
    assert_int_equal(zipWriteInFileInZip(z, head, sizeof(head) - 1), ZIP_OK);
    for (int i = 1; i <= 100000; i++) {
        int n = snprintf(row, sizeof(row),
                         "<row r=\"%d\"><c r=\"A%d\" t=\"s\"><v>%d</v></c>"
                         "<c r=\"B%d\" t=\"inlineStr\"><is><t>指标%d</t></is></c>"
                         "<c r=\"D%d\"><v>342.30000000000001</v></c></row>\n",
                         i, i, i % 2, i, i, i);

        assert_int_equal(zipWriteInFileInZip(z, row, (unsigned)n), ZIP_OK);
    }
    assert_int_equal(zipWriteInFileInZip(z, tail, sizeof(tail) - 1), ZIP_OK);
    assert_int_equal(zipCloseFileInZip(z), ZIP_OK);
    assert_int_equal(zipClose(z, NULL), ZIP_OK);
    got_clear(&g);
    g.keep = false;
    etl_err_clear(&err);
    sink_link.ctx = &g;
    x = etl_xlsx_new(&sink_link, &err);
    assert_non_null(x);
    g.x = x;
    assert_int_equal(etl_xlsx_read(x, path, NULL, 0, &err), 0);
    assert_int_equal(g.records, 100000);
    assert_int_equal(g.last_line, 100000);
    assert_true(g.fp_early > 0);
    assert_int_equal(g.fp_late, g.fp_early);
    assert_true(g.fp_late < 512 * 1024);
    /* the last row, read again alone with a sink that keeps it */
    g.x = NULL;
    g.keep = true;
    g.records = 0;
    g.fail_at = 3;
    assert_int_equal(etl_xlsx_read(x, path, "big", 0, &err), -1);
    assert_string_equal(g.s,
        "1|广东\t指标1\t\t342.3|[广东][指标1][][342.3]|\n"
        "2|全国\t指标2\t\t342.3|[全国][指标2][][342.3]|\n");
    etl_xlsx_free(x);
    free(g.s);
}

/* One reader, several workbooks: nothing of one stays for the next. */
static void
test_reuse(void **state)
{
    struct etl_err err;
    struct got g = { 0 };
    struct etl_xlsx *x;
    const char *a = one_sheet("reuse-a.xlsx", SHEET("<row><c t=\"s\"><v>1</v></c></row>"),
                              "<sst><si><t>x</t></si><si><t>y</t></si></sst>");
    const char *b = one_sheet("reuse-b.xlsx", SHEET("<row><c t=\"s\"><v>1</v></c></row>"),
                              NULL);
    size_t fp;

    (void)state;
    got_clear(&g);
    etl_err_clear(&err);
    sink_link.ctx = &g;
    x = etl_xlsx_new(&sink_link, &err);
    assert_non_null(x);
    assert_int_equal(etl_xlsx_read(x, a, NULL, 0, &err), 0);
    fp = etl_xlsx_footprint(x);
    assert_int_equal(etl_xlsx_read(x, b, NULL, 0, &err), 0);
    assert_int_equal(etl_xlsx_read(x, "/nonexistent/x.xlsx", NULL, 0, &err), -1);
    etl_err_clear(&err);
    assert_int_equal(etl_xlsx_read(x, a, NULL, 0, &err), 0);
    assert_int_equal(etl_xlsx_footprint(x), fp);
    assert_string_equal(g.s,
        "1|y|[y]|\n"
        "1||[]|cell A1 holds the shared string index 1, beyond the table's 0 strings\n"
        "1|y|[y]|\n");
    etl_xlsx_free(x);
    free(g.s);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ewc-test-xlsx.XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    return test_rmtree(tmpdir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_format),
        cmocka_unit_test(test_openpyxl_book),
        cmocka_unit_test(test_select_sheet),
        cmocka_unit_test(test_missing_sheet),
        cmocka_unit_test(test_sheet_names),
        cmocka_unit_test(test_shared_and_inline),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_merged),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_member_errors),
        cmocka_unit_test(test_xml_errors),
        cmocka_unit_test(test_link_error),
        cmocka_unit_test(test_magic),
        cmocka_unit_test(test_stream_100k),
        cmocka_unit_test(test_reuse),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
