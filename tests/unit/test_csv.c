/*
 * test_csv.c
 *    Unit tests of etl/csv.c: quoting, doubled quotes, line ends (LF, CRLF,
 *    lone CR, inside quotes), line numbers, raw texts, delimiter sniffing,
 *    empty and trailing fields, bad records (stray quote, text after a
 *    closing quote, unterminated quote, over-long record, too many fields),
 *    and that every split of the input gives the same records.
 *
 *    Records are rendered as one line of text each, so that a whole file's
 *    result is compared in one assertion:
 *        <line>|<raw>|[<field>][<field>]...|<bad>
 *    with CR and LF shown as \r and \n.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "etl/csv.h"

/* ---- helpers ---------------------------------------------------------- */

struct got {
    char *s;
    size_t n, cap;
    size_t records;
    long fail_at;           /* fail the sink at this record (1-based) */
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
got_text(struct got *g, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            got_add(g, "\\n", 2);
        } else if (p[i] == '\r') {
            got_add(g, "\\r", 2);
        } else {
            got_add(g, p + i, 1);
        }
    }
}

static int
sink(void *arg, const struct etl_csv_record *rec, struct etl_err *err)
{
    struct got *g = arg;
    char num[32];

    g->records++;
    if (g->fail_at > 0 && (long)g->records == g->fail_at) {
        return etl_err_set(err, ETL_E_DB, "sink refused at line %lu", rec->line);
    }
    snprintf(num, sizeof(num), "%lu|", rec->line);
    got_add(g, num, strlen(num));
    assert_int_equal(strlen(rec->raw), rec->raw_len);
    got_text(g, rec->raw, rec->raw_len);
    got_add(g, "|", 1);
    for (size_t i = 0; i < rec->nfields; i++) {
        assert_int_equal(strlen(rec->fields[i]), rec->lens[i]);
        got_add(g, "[", 1);
        got_text(g, rec->fields[i], rec->lens[i]);
        got_add(g, "]", 1);
    }
    got_add(g, "|", 1);
    if (rec->bad != NULL) {
        got_add(g, rec->bad, strlen(rec->bad));
    }
    got_add(g, "\n", 1);
    return 0;
}

/* The tokenizer's next link: each record chunk to sink(), finishes counted. */
static int link_finishes;

static int
sink_process(struct etl_stage *st, struct etl_chunk *in, struct etl_err *err)
{
    assert_ptr_equal(in->type, &etl_chunk_record_type);
    assert_int_equal(in->len, ((const struct etl_csv_record *)in->data)->nfields);
    return sink(st->ctx, in->data, err);
}

static int
sink_finish(struct etl_stage *st, struct etl_verdict *v, struct etl_err *err)
{
    (void)st;
    (void)v;
    (void)err;
    link_finishes++;
    return 0;
}

static const struct etl_stage_kind sink_kind = {
    .name = "sink", .process = sink_process, .finish = sink_finish,
};

/* A tokenizer whose next link renders into 'g'; csv_free() frees both. */
static struct etl_csv *
csv_new(char delim, size_t max, struct got *g, struct etl_err *err)
{
    struct etl_stage *next = calloc(1, sizeof(*next));
    struct etl_csv *c;

    assert_non_null(next);
    next->kind = &sink_kind;
    next->name = (char *)"sink";
    next->ctx = g;
    c = etl_csv_new(delim, max, next, err);
    if (c == NULL) {
        free(next);
    }
    return c;
}

static void
csv_free(struct etl_csv *c)
{
    struct etl_stage *next = etl_csv_link(c)->next;

    etl_csv_free(c);
    free(next);
}

static uint32_t rng_state = 777;

static uint32_t
rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/*
 * Tokenize 'in' with 'delim' (0 sniffs) and 'max', cut into pieces of
 * 'piece' bytes (0: whole; SIZE_MAX: random sizes), or at 'at' if piece is
 * 1 and at > 0... kept simple: see the two wrappers.  Returns the rendering
 * (caller frees), the delimiter used in *used.
 */
static char *
tokenize_cut(const char *in, size_t n, char delim, size_t max, size_t at,
             size_t piece, char *used)
{
    struct got g;
    struct etl_err err;
    struct etl_csv *c;
    size_t pos = 0;

    memset(&g, 0, sizeof(g));
    got_add(&g, "", 0);
    etl_err_clear(&err);
    c = csv_new(delim, max, &g, &err);
    assert_non_null(c);
    if (at > 0) {
        assert_int_equal(etl_csv_feed(c, in, at, &err), 0);
        pos = at;
    }
    while (pos < n) {
        size_t k = piece == 0 ? n - pos : piece == SIZE_MAX ? 1 + rng() % 37 : piece;

        if (k > n - pos) {
            k = n - pos;
        }
        assert_int_equal(etl_csv_feed(c, in + pos, k, &err), 0);
        pos += k;
    }
    assert_int_equal(etl_csv_finish(c, &err), 0);
    assert_int_equal(err.code, ETL_E_NONE);
    if (used != NULL) {
        *used = etl_csv_delimiter(c);
    }
    csv_free(c);
    return g.s;
}

/* Tokenize whole, then check every split and byte-by-byte give the same. */
static void
check(const char *in, char delim, size_t max, const char *want)
{
    size_t n = strlen(in);
    char *s = tokenize_cut(in, n, delim, max, 0, 0, NULL);

    assert_string_equal(s, want);
    free(s);
    for (size_t at = 1; at < n; at++) {
        s = tokenize_cut(in, n, delim, max, at, 0, NULL);
        assert_string_equal(s, want);
        free(s);
    }
    s = tokenize_cut(in, n, delim, max, 0, 1, NULL);
    assert_string_equal(s, want);
    free(s);
    s = tokenize_cut(in, n, delim, max, 0, SIZE_MAX, NULL);
    assert_string_equal(s, want);
    free(s);
}

/* The delimiter sniffed for 'in'. */
static char
sniffed(const char *in)
{
    char used = 0;
    char *s = tokenize_cut(in, strlen(in), 0, 0, 0, 0, &used);

    free(s);
    return used;
}

/* ---- quoting ------------------------------------------------------------ */

static void
test_simple(void **state)
{
    (void)state;
    check("a,b,c\n1,2,3\n", ',', 0,
          "1|a,b,c|[a][b][c]|\n"
          "2|1,2,3|[1][2][3]|\n");
    /* no final line end */
    check("a,b\nc,d", ',', 0,
          "1|a,b|[a][b]|\n"
          "2|c,d|[c][d]|\n");
    /* empty input, and just a line end */
    check("", ',', 0, "");
    check("\n", ',', 0, "1||[]|\n");
    /* UTF-8 passes untouched */
    check("\xe5\x9c\xb0\xe5\x8c\xba,\xe6\x8c\x87\xe6\xa0\x87\n", ',', 0,
          "1|\xe5\x9c\xb0\xe5\x8c\xba,\xe6\x8c\x87\xe6\xa0\x87|"
          "[\xe5\x9c\xb0\xe5\x8c\xba][\xe6\x8c\x87\xe6\xa0\x87]|\n");
}

static void
test_empty_and_trailing_fields(void **state)
{
    (void)state;
    check(",,\n", ',', 0, "1|,,|[][][]|\n");
    check("a,b,\n1,2,\n", ',', 0,
          "1|a,b,|[a][b][]|\n"
          "2|1,2,|[1][2][]|\n");
    check(",a\n", ',', 0, "1|,a|[][a]|\n");
    /* spaces are data in unquoted fields (the stage trims) */
    check(" a , b \n", ',', 0, "1| a , b |[ a ][ b ]|\n");
}

static void
test_quotes(void **state)
{
    (void)state;
    check("\"a,b\",\"c\"\"d\",\"\"\n", ',', 0,
          "1|\"a,b\",\"c\"\"d\",\"\"|[a,b][c\"d][]|\n");
    /* a field that is just a doubled quote */
    check("\"\"\"\"\n", ',', 0, "1|\"\"\"\"|[\"]|\n");
    /* spaces before an opening and after a closing quote are dropped */
    check(" \"a\" , \"b\"\n", ',', 0, "1| \"a\" , \"b\"|[a][b]|\n");
    /* the last field quoted, no final line end */
    check("x,\"y\"", ',', 0, "1|x,\"y\"|[x][y]|\n");
    /* tab-separated with quoted tabs */
    check("a\t\"b\tc\"\n", '\t', 0, "1|a\t\"b\tc\"|[a][b\tc]|\n");
}

static void
test_embedded_newlines(void **state)
{
    (void)state;
    /* line numbers of the following records count the newlines inside */
    check("h1,h2\n\"x\ny\",2\nz,3\n", ',', 0,
          "1|h1,h2|[h1][h2]|\n"
          "2|\"x\\ny\",2|[x\\ny][2]|\n"
          "4|z,3|[z][3]|\n");
    check("h\n\"a\n\n\nb\"\nc\n", ',', 0,
          "1|h|[h]|\n"
          "2|\"a\\n\\n\\nb\"|[a\\n\\n\\nb]|\n"
          "6|c|[c]|\n");
    /* CRLF inside quotes is one line end, a lone CR too */
    check("\"x\r\ny\",1\r\nz,2\r\n\"p\rq\",3\n", ',', 0,
          "1|\"x\\r\\ny\",1|[x\\r\\ny][1]|\n"
          "3|z,2|[z][2]|\n"
          "4|\"p\\rq\",3|[p\\rq][3]|\n");
}

static void
test_line_ends(void **state)
{
    (void)state;
    check("a,b\r\nc,d\r\n", ',', 0,
          "1|a,b|[a][b]|\n"
          "2|c,d|[c][d]|\n");
    check("a,b\rc,d\r", ',', 0,
          "1|a,b|[a][b]|\n"
          "2|c,d|[c][d]|\n");
    /* blank lines are records of one empty field, at their own line */
    check("a\r\rb\n\nc\r\n\r\nd", ',', 0,
          "1|a|[a]|\n"
          "2||[]|\n"
          "3|b|[b]|\n"
          "4||[]|\n"
          "5|c|[c]|\n"
          "6||[]|\n"
          "7|d|[d]|\n");
    /* a line end right after a closing quote, and after spaces */
    check("\"a\"\r\n\"b\"  \nc", ',', 0,
          "1|\"a\"|[a]|\n"
          "2|\"b\"  |[b]|\n"
          "3|c|[c]|\n");
}

/* ---- bad records --------------------------------------------------------- */

static void
test_stray_quote(void **state)
{
    (void)state;
    check("ab\"c,d\nx,y\n", ',', 0,
          "1|ab\"c,d|[ab\"c][d]|stray quote in unquoted field at line 1, column 3\n"
          "2|x,y|[x][y]|\n");
    /* columns count characters */
    check("h\n\xe4\xb8\xad\xe6\x96\x87,\xe5\x9c\xb0\"\n", ',', 0,
          "1|h|[h]|\n"
          "2|\xe4\xb8\xad\xe6\x96\x87,\xe5\x9c\xb0\"|[\xe4\xb8\xad\xe6\x96\x87]"
          "[\xe5\x9c\xb0\"]|stray quote in unquoted field at line 2, column 5\n");
    /* the column is on the physical line, after a quoted newline */
    check("\"a\nbc\",d\"e\n", ',', 0,
          "1|\"a\\nbc\",d\"e|[a\\nbc][d\"e]|stray quote in unquoted field at line 2, "
          "column 6\n");
    /* only the first reason is kept */
    check("a\"b\"c\n", ',', 0,
          "1|a\"b\"c|[a\"b\"c]|stray quote in unquoted field at line 1, column 2\n");
}

static void
test_after_closing_quote(void **state)
{
    (void)state;
    check("\"a\"b,c\nd,e\n", ',', 0,
          "1|\"a\"b,c|[ab][c]|unexpected character after closing quote at line 1, "
          "column 4\n"
          "2|d,e|[d][e]|\n");
    check("x, \"a\" b\n", ',', 0,
          "1|x, \"a\" b|[x][ab]|unexpected character after closing quote at line 1, "
          "column 8\n");
}

static void
test_unterminated(void **state)
{
    (void)state;
    /* at end of input the open field takes everything to the end: one
     * record, however many physical lines it swallowed, and it says how many */
    check("a,b\n\"c,d\ne\n", ',', 0,
          "1|a,b|[a][b]|\n"
          "2|\"c,d\\ne\\n|[c,d\\ne\\n]|unterminated quoted field starting at line 2 runs "
          "to the end of the file, 2 lines\n");
    /* a record of one line swallowed nothing: no span */
    check("a,\"b", ',', 0,
          "1|a,\"b|[a][b]|unterminated quoted field starting at line 1\n");
    check("x\n\n1,\"", ',', 0,
          "1|x|[x]|\n"
          "2||[]|\n"
          "3|1,\"|[1][]|unterminated quoted field starting at line 3\n");
    check("1,\"a\n", ',', 0,
          "1|1,\"a\\n|[1][a\\n]|unterminated quoted field starting at line 1\n");
    /* two data lines, one record: rows_in counts records */
    check("h,v\n1,\"open\n2,b\n", ',', 0,
          "1|h,v|[h][v]|\n"
          "2|1,\"open\\n2,b\\n|[1][open\\n2,b\\n]|unterminated quoted field starting at "
          "line 2 runs to the end of the file, 2 lines\n");
    /* CRLF is one line end; no final line end */
    check("1,\"a\r\nb\r\nc", ',', 0,
          "1|1,\"a\\r\\nb\\r\\nc|[1][a\\r\\nb\\r\\nc]|unterminated quoted field "
          "starting at line 1 runs to the end of the file, 3 lines\n");
    /* the record started lines before the open field */
    check("\"a\nb\",\"c\nd\n", ',', 0,
          "1|\"a\\nb\",\"c\\nd\\n|[a\\nb][c\\nd\\n]|unterminated quoted field starting at "
          "line 2 runs to the end of the file, 2 lines; the record starts at line 1, 3 "
          "lines\n");
    check("\"a\nb\",\"c", ',', 0,
          "1|\"a\\nb\",\"c|[a\\nb][c]|unterminated quoted field starting at line 2 runs to "
          "the end of the file, 1 line; the record starts at line 1, 2 lines\n");
}

static void
test_too_long(void **state)
{
    (void)state;
    /* raw cut at the limit, fields after the cut dropped, next line fine */
    check("a,b\n0123456789abcdefXYZ,y\nc,d\n", ',', 16,
          "1|a,b|[a][b]|\n"
          "2|0123456789abcdef||record longer than 16 bytes\n"
          "3|c,d|[c][d]|\n");
    check("a,b\nxy,0123456789abcdefXYZ\nc,d\n", ',', 16,
          "1|a,b|[a][b]|\n"
          "2|xy,0123456789abc|[xy]|record longer than 16 bytes\n"
          "3|c,d|[c][d]|\n");
    /* exactly the limit is fine */
    check("0123456789abcdef\n", ',', 16, "1|0123456789abcdef|[0123456789abcdef]|\n");
    /* the cut does not split a character: 中 x 6 is 18 bytes */
    check("\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\nz\n",
          ',', 16,
          "1|\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad||"
          "record longer than 16 bytes\n"
          "2|z|[z]|\n");
    /* ... nor when the cut falls after a continuation byte (17 = 5 x 3 + 2) */
    check("\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\nz\n",
          ',', 17,
          "1|\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad||"
          "record longer than 17 bytes\n"
          "2|z|[z]|\n");
    /* long because of quotes and delimiters, not field text */
    check("\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\n,,,,,,,,,,,,,,,,,,,,\nq\n", ',', 16,
          "1|\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"||record longer than 16 bytes\n"
          "2|,,,,,,,,,,,,,,,,|[][][][][][][][][][][][][][][][][]|"
          "record longer than 16 bytes\n"
          "3|q|[q]|\n");
    /* a long quoted field spanning lines: resync after its closing quote;
     * the reason says which lines the record swallowed */
    check("\"0123456789\nabcdefghij\nklm\",x\nn\n", ',', 16,
          "1|\"0123456789\\nabcd||record longer than 16 bytes starting at line 1 runs "
          "to line 3, 3 lines\n"
          "4|n|[n]|\n");
    check("a\n\"0123456789\nabcdefghij\",x", ',', 16,
          "1|a|[a]|\n"
          "2|\"0123456789\\nabcd||record longer than 16 bytes starting at line 2 runs "
          "to line 3, 2 lines\n");
    /* ... and when no closing quote comes, that it ran to the end */
    check("a\n\"0123456789\nabcdefghij\nklm\n", ',', 16,
          "1|a|[a]|\n"
          "2|\"0123456789\\nabcd||record longer than 16 bytes starting at line 2 runs "
          "to the end of the file, 3 lines, in an unterminated quoted field starting at "
          "line 2\n");
    /* one line, over-long and open: no span either */
    check("\"0123456789abcdefXYZ", ',', 16,
          "1|\"0123456789abcde||record longer than 16 bytes\n");
}

static void
test_too_many_fields(void **state)
{
    size_t n = ETL_CSV_MAX_FIELDS + 10;
    char *in = malloc(n + 4);
    struct got g;
    struct etl_err err;
    struct etl_csv *c;

    (void)state;
    memset(in, ',', n);
    memcpy(in + n, "\nz\n", 4);
    memset(&g, 0, sizeof(g));
    etl_err_clear(&err);
    c = csv_new(',', 0, &g, &err);
    assert_int_equal(etl_csv_feed(c, in, n + 3, &err), 0);
    assert_int_equal(etl_csv_finish(c, &err), 0);
    assert_int_equal(g.records, 2);
    assert_non_null(strstr(g.s, "]|more than 4096 fields\n2|z|[z]|\n"));
    /* 4096 empty fields were kept */
    {
        size_t k = 0;

        for (const char *p = g.s; (p = strstr(p, "[]")) != NULL; p += 2) {
            k++;
        }
        assert_int_equal(k, ETL_CSV_MAX_FIELDS);
    }
    csv_free(c);
    free(g.s);
    free(in);
}

/* ---- sniffing ------------------------------------------------------------ */

/* SDMX-CSV: the byte after DATAFLOW or STRUCTURE[...] is the delimiter. */
static void
test_sniff_sdmx(void **state)
{
    (void)state;
    /* counting would take ';' (most fields in the first record) */
    assert_int_equal(sniffed("STRUCTURE[;],STRUCTURE_ID,A\nd;x,y;z,1;2\n"), ',');
    assert_int_equal(sniffed("STRUCTURE[;];STRUCTURE_ID;A\nd;y;1\n"), ';');
    assert_int_equal(sniffed("STRUCTURE\tSTRUCTURE_ID\tA\nd\tx;y;z\t1\n"), '\t');
    assert_int_equal(sniffed("\r\n  structure[|];a;b\nx,y;z,w;1,5\n"), ';');
    assert_int_equal(sniffed("DATAFLOW;REF_AREA,X\nd;1,2,3\n"), ';');
    assert_int_equal(sniffed("Dataflow\tA\nd\t1;2;3\n"), '\t');
    /* not the term, or no delimiter after it: counted as ever */
    assert_int_equal(sniffed("STRUCTURES;a,b,c\n1;2,3,4\n"), ',');
    assert_int_equal(sniffed("STRUCTURE[;\n1;2;3\n4;5;6\n"), ';');
    assert_int_equal(sniffed("STRUCTURE[;]|a;b\n1;2;3\n"), ';');
    assert_int_equal(sniffed("DATAFLOW"), ',');
    assert_int_equal(sniffed("STRUCTURE["), ',');
    /* the bracket is not special to the tokenizer */
    check("STRUCTURE[;];B\nx;y\n", 0, 0,
          "1|STRUCTURE[;];B|[STRUCTURE[][]][B]|\n"
          "2|x;y|[x][y]|\n");
}

static void
test_sniff(void **state)
{
    (void)state;
    assert_int_equal(sniffed("a,b,c\n1,2,3\n"), ',');
    assert_int_equal(sniffed("a\tb\tc\n1\t2\t3\n"), '\t');
    assert_int_equal(sniffed("a;b;c\n1;2;3\n"), ';');
    /* delimiters inside quotes do not count */
    assert_int_equal(sniffed("\"a,x\";b\n\"1,2,3\";2\n"), ';');
    assert_int_equal(sniffed("a\t\"b;c\"\n1\t\"2;;\"\n"), '\t');
    /* commas inside numbers: tab is the consistent one */
    assert_int_equal(sniffed("\xe5\x9c\xb0\xe5\x8c\xba\tvalue\nx\t1,005.4\ny\t2\n"), '\t');
    /* European CSV: decimal commas, semicolons */
    assert_int_equal(sniffed("a;b\n1,5;2\n3;4,25\n"), ';');
    /* both consistent: ',' wins over ';', '\t' over ';' */
    assert_int_equal(sniffed("a,b;c\n1,2;3\n"), ',');
    assert_int_equal(sniffed("a\tb;c\n1\t2;3\n"), '\t');
    /* none consistent: most fields in the first record */
    assert_int_equal(sniffed("a;b;c,d\n1;2\n3\n"), ';');
    /* one column: ',' */
    assert_int_equal(sniffed("a\nb\n"), ',');
    assert_int_equal(sniffed(""), ',');
    /* blank lines and CRLF do not disturb it */
    assert_int_equal(sniffed("\r\na;b\r\n\r\n1;2\r\n"), ';');
    /* a quoted newline in a sample record */
    assert_int_equal(sniffed("a;b\n\"x\ny\";2\n"), ';');
    /* sniffing then tokenizing: same records however it is cut */
    check("a;b\n\"1;2\";\"x\ny\"\n3;4", 0, 0,
          "1|a;b|[a][b]|\n"
          "2|\"1;2\";\"x\\ny\"|[1;2][x\\ny]|\n"
          "4|3;4|[3][4]|\n");
}

static void
test_sniff_window(void **state)
{
    /* a file longer than the sniff window: the held text goes through */
    size_t rows = 20000, n;
    char *in = malloc(rows * 8 + 100000), *s;
    char used = 0;
    struct got g;
    struct etl_err err;
    struct etl_csv *c;

    (void)state;
    n = 0;
    n += (size_t)sprintf(in + n, "k\tv\n");
    for (size_t i = 0; i < rows; i++) {
        n += (size_t)sprintf(in + n, "%04zu\t%zu\n", i % 10000, i % 7);
    }
    s = tokenize_cut(in, n, 0, 0, 0, 4096, &used);
    assert_int_equal(used, '\t');
    assert_non_null(strstr(s, "\n20001|9999\t0|[9999][0]|\n"));
    free(s);
    /* few records in the window, the last one cut by it: not a sample */
    n = 0;
    n += (size_t)sprintf(in + n, "a;b\n");
    for (int i = 0; i < 3; i++) {
        memset(in + n, 'x', 30000);
        n += 30000;
        n += (size_t)sprintf(in + n, ";%d,%d,%d\n", i, i, i);
    }
    s = tokenize_cut(in, n, 0, 0, 0, 0, &used);
    assert_int_equal(used, ';');
    free(s);
    /* the line of the next byte is right while sniffing */
    memset(&g, 0, sizeof(g));
    etl_err_clear(&err);
    c = csv_new(0, 0, &g, &err);
    assert_int_equal(etl_csv_line(c), 1);
    assert_int_equal(etl_csv_feed(c, "a,b\r\nc,d\re\n", 11, &err), 0);
    assert_int_equal(etl_csv_delimiter(c), 0);
    assert_int_equal(g.records, 0);
    assert_int_equal(etl_csv_line(c), 4);
    assert_int_equal(etl_csv_finish(c, &err), 0);
    assert_int_equal(etl_csv_delimiter(c), ',');
    assert_int_equal(etl_csv_line(c), 4);
    assert_int_equal(g.records, 3);
    csv_free(c);
    free(g.s);
    free(in);
}

/* ---- the rest ------------------------------------------------------------ */

static void
test_everything_split(void **state)
{
    (void)state;
    /* a bit of everything, cut at every offset */
    check("\xef\xbc\x88h1\xef\xbc\x89,\"h,2\",h3\r\n"
          "\"multi\r\nline\",\"q\"\"q\",\r\n"
          "\r\n"
          "bad\"q,x,y\n"
          " \"sp\" ,\"\",\xe4\xb8\xad\r"
          "last,\"open\n",
          ',', 0,
          "1|\xef\xbc\x88h1\xef\xbc\x89,\"h,2\",h3|[\xef\xbc\x88h1\xef\xbc\x89][h,2][h3]|\n"
          "2|\"multi\\r\\nline\",\"q\"\"q\",|[multi\\r\\nline][q\"q][]|\n"
          "4||[]|\n"
          "5|bad\"q,x,y|[bad\"q][x][y]|stray quote in unquoted field at line 5, "
          "column 4\n"
          "6| \"sp\" ,\"\",\xe4\xb8\xad|[sp][][\xe4\xb8\xad]|\n"
          "7|last,\"open\\n|[last][open\\n]|unterminated quoted field starting at "
          "line 7\n");
}

static void
test_sink_error_and_reset(void **state)
{
    struct got g;
    struct etl_err err;
    struct etl_csv *c;

    (void)state;
    memset(&g, 0, sizeof(g));
    g.fail_at = 2;
    etl_err_clear(&err);
    c = csv_new(',', 0, &g, &err);
    assert_int_equal(etl_csv_feed(c, "a\nb\nc\n", 6, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_string_equal(err.msg, "sink refused at line 2");
    /* at finish too */
    etl_csv_reset(c);
    etl_err_clear(&err);
    g.records = 0;
    assert_int_equal(etl_csv_feed(c, "a\nb", 3, &err), 0);
    assert_int_equal(etl_csv_finish(c, &err), -1);
    assert_string_equal(err.msg, "sink refused at line 2");
    /* reset: a new file starts at line 1 with nothing pending */
    etl_csv_reset(c);
    etl_err_clear(&err);
    g.records = 0;
    g.fail_at = 0;
    free(g.s);
    g.s = NULL;
    g.n = g.cap = 0;
    assert_int_equal(etl_csv_feed(c, "x,\"y", 4, &err), 0);
    etl_csv_reset(c);
    assert_int_equal(etl_csv_feed(c, "p,q\n", 4, &err), 0);
    assert_int_equal(etl_csv_finish(c, &err), 0);
    assert_string_equal(g.s, "1|p,q|[p][q]|\n");
    csv_free(c);
    free(g.s);
}

static void
test_new_errors(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_null(csv_new('"', 0, NULL, &err));
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "invalid CSV delimiter 0x22");
    etl_err_clear(&err);
    assert_null(csv_new('\n', 0, NULL, &err));
    assert_string_equal(err.msg, "invalid CSV delimiter 0x0a");
    etl_csv_free(NULL);
}

/* The tokenizer as a link: bytes in, records out, finish passed on. */
static void
test_link(void **state)
{
    static const struct etl_chunk_type other = { .name = "rows" };
    struct got g;
    struct etl_verdict v = { 0 };
    struct etl_err err;
    struct etl_csv *c;
    struct etl_stage *link;
    struct etl_chunk text = { .bytes = "a,b\nc", .len = 5 };
    struct etl_chunk wrong = { .type = &other, .data = &g, .len = 1 };

    (void)state;
    memset(&g, 0, sizeof(g));
    etl_err_clear(&err);
    c = csv_new(',', 0, &g, &err);
    link = etl_csv_link(c);
    assert_ptr_equal(link->kind, &etl_csv_link_kind);
    assert_ptr_equal(link->ctx, c);
    assert_string_equal(link->name, "csv");
    link_finishes = 0;
    assert_int_equal(link->kind->process(link, &text, &err), 0);
    assert_string_equal(g.s, "1|a,b|[a][b]|\n");
    assert_int_equal(link_finishes, 0);
    assert_int_equal(link->kind->finish(link, &v, &err), 0);
    assert_string_equal(g.s, "1|a,b|[a][b]|\n2|c|[c]|\n");
    assert_int_equal(link_finishes, 1);
    /* another chunk type is refused, nothing reaches the next link */
    assert_int_equal(link->kind->process(link, &wrong, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "the CSV tokenizer expects bytes, not rows");
    assert_int_equal(g.records, 2);
    /* the last record's error stops the finish: the next is not finished */
    etl_csv_reset(c);
    etl_err_clear(&err);
    g.records = 0;
    g.fail_at = 2;
    assert_int_equal(link->kind->process(link, &text, &err), 0);
    assert_int_equal(link->kind->finish(link, &v, &err), -1);
    assert_string_equal(err.msg, "sink refused at line 2");
    assert_int_equal(link_finishes, 1);
    csv_free(c);
    free(g.s);
}

/* Many records: the buffers stay at the size of the longest one. */
static void
test_bounded_memory(void **state)
{
    struct etl_err err;
    struct etl_csv *c;
    struct got g;
    char chunk[8192];
    size_t before;

    (void)state;
    memset(&g, 0, sizeof(g));
    etl_err_clear(&err);
    c = csv_new(',', 0, &g, &err);
    assert_int_equal(etl_csv_feed(c, "region,indicator,period,value\n", 30, &err), 0);
    before = etl_csv_footprint(c);
    assert_true(before < 4096);
    for (int i = 0; i < 2000; i++) {
        size_t n = 0;

        while (n + 64 < sizeof(chunk)) {
            n += (size_t)snprintf(chunk + n, sizeof(chunk) - n,
                                  "\"r%d\",x,2021,%d\n", i, (int)n);
        }
        assert_int_equal(etl_csv_feed(c, chunk, n, &err), 0);
        free(g.s);
        g.s = NULL;
        g.n = g.cap = 0;
    }
    assert_int_equal(etl_csv_finish(c, &err), 0);
    assert_true(g.records > 200000);
    assert_int_equal(etl_csv_footprint(c), before);
    csv_free(c);
    free(g.s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_empty_and_trailing_fields),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_embedded_newlines),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_stray_quote),
        cmocka_unit_test(test_after_closing_quote),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_sniff_sdmx),
        cmocka_unit_test(test_sniff_window),
        cmocka_unit_test(test_everything_split),
        cmocka_unit_test(test_sink_error_and_reset),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_bounded_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
