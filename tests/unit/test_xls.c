/*
 * test_xls.c
 *    Unit tests of etl/xls.c on tests/data/xls/book.xls (written by xlwt,
 *    tests/data/xls/make.py): text, integers, floating point through the
 *    15-digit formatter, a date, a row with gaps, an absent row, sheets by
 *    name and position, a missing sheet, an over-long row, the next link's
 *    error, unreadable and truncated files.
 *
 *    Records are rendered as in test_csv.c and test_xlsx.c:
 *        <line>|<raw>|[<field>][<field>]...|<bad>
 *    Run from the top of the tree.
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

#include "etl/csv.h"
#include "etl/xls.h"
#include "support.h"

#define BOOK "tests/data/xls/book.xls"

static char tmpdir[64];

/* ---- the recording next link ----------------------------------------- */

struct got {
    char *s;
    size_t n, cap;
    size_t records;
    long fail_at;                   /* fail at this record (1-based) */
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
got_clear(struct got *g)
{
    free(g->s);
    memset(g, 0, sizeof(*g));
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
    if (g->fail_at > 0 && (long)g->records == g->fail_at) {
        return etl_err_set(err, ETL_E_DB, "sink refused row %lu", rec->line);
    }
    assert_int_equal(strlen(rec->raw), rec->raw_len);
    snprintf(num, sizeof(num), "%lu|", rec->line);
    got_add(g, num, strlen(num));
    got_add(g, rec->raw, rec->raw_len);
    got_add(g, "|", 1);
    for (size_t i = 0; i < rec->nfields; i++) {
        assert_int_equal(strlen(rec->fields[i]), rec->lens[i]);
        got_add(g, "[", 1);
        got_add(g, rec->fields[i], rec->lens[i]);
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

static int
read_book(const char *path, const char *sheet, size_t max, struct got *g,
          struct etl_err *err)
{
    struct etl_xls *x;
    int rc;

    got_clear(g);
    etl_err_clear(err);
    sink_link.ctx = g;
    x = etl_xls_new(&sink_link, err);
    assert_non_null(x);
    rc = etl_xls_read(x, path, sheet, max, err);
    etl_xls_free(x);
    return rc;
}

static const char *
tmp(const char *name)
{
    static char path[128];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

/* ---- tests ------------------------------------------------------------ */

static const char book_first[] =
    "1|地区\t2021年\t\t备注|[地区][2021年][][备注]|\n"
    "2|\t引导企业(家)\t投资(亿元)|[][引导企业(家)][投资(亿元)]|\n"
    "3|全国\t2193\t342.3\t说明|[全国][2193][342.3][说明]|\n"
    "4|广东\t0.000123\t100000000000000000000\t-5|"
    "[广东][0.000123][100000000000000000000][-5]|\n"
    "6|\tb\t\td|[][b][][d]|\n"
    "7|1005400000000\t2021-06-30|[1005400000000][2021-06-30]|\n";

static const char book_second[] =
    "1|省份\t数值|[省份][数值]|\n"
    "2|四川\t926.3|[四川][926.3]|\n";

static void
test_book(void **state)
{
    struct etl_err err;
    struct got g = { 0 };

    (void)state;
    assert_int_equal(read_book(BOOK, NULL, 0, &g, &err), 0);
    assert_string_equal(g.s, book_first);
    assert_int_equal(g.records, 6);
    free(g.s);
}

static void
test_select_sheet(void **state)
{
    struct etl_err err;
    struct got g = { 0 };

    (void)state;
    assert_int_equal(read_book(BOOK, "分省", 0, &g, &err), 0);
    assert_string_equal(g.s, book_second);
    assert_int_equal(read_book(BOOK, "2", 0, &g, &err), 0);
    assert_string_equal(g.s, book_second);
    assert_int_equal(read_book(BOOK, "汇总", 0, &g, &err), 0);
    assert_string_equal(g.s, book_first);
    assert_int_equal(read_book(BOOK, "1", 0, &g, &err), 0);
    assert_string_equal(g.s, book_first);
    free(g.s);
}

static void
test_missing_sheet(void **state)
{
    static const char *const names[] = { "X", "3", "0", "", "1x", "99999999999999999999" };
    struct etl_err err;
    struct got g = { 0 };
    char want[256];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
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

static void
test_too_long(void **state)
{
    struct etl_err err;
    struct got g = { 0 };

    (void)state;
    assert_int_equal(read_book(BOOK, NULL, 12, &g, &err), 0);
    assert_string_equal(g.s,
        "1|地区\t2021|[地区]|record longer than 12 bytes\n"
        "2|\t引导企|[]|record longer than 12 bytes\n"
        "3|全国\t2193\t|[全国][2193]|record longer than 12 bytes\n"
        "4|广东\t0.000|[广东]|record longer than 12 bytes\n"
        "6|\tb\t\td|[][b][][d]|\n"
        "7|100540000000|[]|record longer than 12 bytes\n");
    free(g.s);
}

/* The next link's error stops the read and comes back as it is. */
static void
test_link_error(void **state)
{
    struct etl_err err;
    struct got g = { 0 };

    (void)state;
    got_clear(&g);
    etl_err_clear(&err);
    g.fail_at = 3;
    sink_link.ctx = &g;
    {
        struct etl_xls *x = etl_xls_new(&sink_link, &err);

        assert_non_null(x);
        assert_int_equal(etl_xls_read(x, BOOK, NULL, 0, &err), -1);
        assert_int_equal(err.code, ETL_E_DB);
        assert_string_equal(err.msg, "sink refused row 3");
        assert_string_equal(err.where, "");
        assert_int_equal(g.records, 3);
        /* the reader reads again after an error */
        etl_err_clear(&err);
        got_clear(&g);
        assert_int_equal(etl_xls_read(x, BOOK, "2", 0, &err), 0);
        assert_string_equal(g.s, book_second);
        etl_xls_free(x);
    }
    free(g.s);
}

/*
 * Damaged workbooks (bytes of book.xls changed at random, a fixed seed):
 * libfreexl runs in a child process, so whatever it makes of them, the
 * read ends with records or an error of the file, never a crash or a
 * leak of ours.
 */
static void
test_damaged(void **state)
{
    struct etl_err err;
    struct got g = { 0 };
    char path[128], *book;
    long size;
    FILE *f = fopen(BOOK, "rb");
    struct etl_xls *x;
    unsigned seed = 20261205;
    int ok = 0, failed = 0;

    (void)state;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    rewind(f);
    book = malloc((size_t)size);
    assert_non_null(book);
    assert_int_equal(fread(book, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    snprintf(path, sizeof(path), "%s/damaged.xls", tmpdir);
    sink_link.ctx = &g;
    etl_err_clear(&err);
    x = etl_xls_new(&sink_link, &err);
    assert_non_null(x);
    for (int i = 0; i < 40; i++) {
        char *copy = malloc((size_t)size);

        assert_non_null(copy);
        memcpy(copy, book, (size_t)size);
        for (int k = 0; k < 1 + i % 12; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[8 + (seed >> 8) % (unsigned)(size - 8)] = (char)(seed >> 3);
        }
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(copy, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        free(copy);
        got_clear(&g);
        etl_err_clear(&err);
        if (etl_xls_read(x, path, NULL, 0, &err) == 0) {
            ok++;
        } else {
            assert_int_equal(err.code, ETL_E_DATA);
            assert_true(err.msg[0] != '\0');
            failed++;
        }
    }
    /* both outcomes happened: the damage reached freexl */
    assert_true(ok > 0 && failed > 0);
    etl_xls_free(x);
    free(g.s);
    free(book);
    unlink(path);
}

static void
copy_file(const char *from, const char *to, long n)
{
    FILE *f = fopen(from, "rb"), *t = fopen(to, "wb");
    long i = 0;
    int c;

    assert_non_null(f);
    assert_non_null(t);
    while ((c = getc(f)) != EOF && (n == 0 || i < n)) {
        putc(c, t);
        i++;
    }
    fclose(f);
    fclose(t);
}

static void
expect_error(const char *path, enum etl_errcode code, const char *msg)
{
    struct etl_err err;
    struct got g = { 0 };

    assert_int_equal(read_book(path, NULL, 0, &g, &err), -1);
    assert_int_equal(err.code, code);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, "");
    assert_int_equal(g.records, 0);
    free(g.s);
}

static void
test_file_errors(void **state)
{
    char msg[256], path[128];
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s", tmp("absent.xls"));
    snprintf(msg, sizeof(msg), "could not open workbook \"%s\": No such file or directory",
             path);
    expect_error(path, ETL_E_IO, msg);

    snprintf(path, sizeof(path), "%s", tmp("text.xls"));
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("region,value\n全国,1\n", f);
    fclose(f);
    snprintf(msg, sizeof(msg),
             "\"%s\" is not a readable .xls workbook: not an OLE2 compound file", path);
    expect_error(path, ETL_E_DATA, msg);

    snprintf(path, sizeof(path), "%s", tmp("empty.xls"));
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(msg, sizeof(msg),
             "\"%s\" is not a readable .xls workbook: not an OLE2 compound file", path);
    expect_error(path, ETL_E_DATA, msg);

    /* the header is there, the sectors it points to are not */
    snprintf(path, sizeof(path), "%s", tmp("truncated.xls"));
    copy_file(BOOK, path, 1024);
    snprintf(msg, sizeof(msg),
             "\"%s\" is not a readable .xls workbook: corrupt or truncated compound file",
             path);
    expect_error(path, ETL_E_DATA, msg);

    /* an .xlsx is not an .xls */
    snprintf(msg, sizeof(msg),
             "\"%s\" is not a readable .xls workbook: not an OLE2 compound file",
             "tests/data/xlsx/book.xlsx");
    expect_error("tests/data/xlsx/book.xlsx", ETL_E_DATA, msg);
}

static void
test_magic(void **state)
{
    (void)state;
    assert_true(etl_xls_magic("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", 9));
    assert_false(etl_xls_magic("\xd0\xcf\x11\xe0\xa1\xb1\x1a", 7));
    assert_false(etl_xls_magic("PK\3\4\0\0\0\0", 8));
    etl_xls_free(NULL);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ewc-test-xls.XXXXXX");
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
        cmocka_unit_test(test_book),
        cmocka_unit_test(test_select_sheet),
        cmocka_unit_test(test_missing_sheet),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_link_error),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_magic),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
