/*
 * test_json.c
 *    Unit tests of etl/json.c: the top-level array and a records path, the
 *    header from the first object, keys in another order, missing, extra
 *    and nested keys, null/true/false, numbers kept as written, escapes and
 *    Chinese text, line numbers of pretty-printed JSON, elements that are
 *    not objects, over-long records, syntax errors and their position, a
 *    path not found, a top-level object without a path, an empty array, a
 *    BOM, the link, and memory that stays flat over 200,000 records.  Every
 *    document is also read cut at every offset and one byte at a time.
 *
 *    Records are rendered as one line of text each, as in test_csv.c:
 *        <line>|<raw>|[<field>][<field>]...|<bad>
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "etl/json.h"

/* ---- helpers ---------------------------------------------------------- */

struct got {
    char *s;
    size_t n, cap;
    size_t records;
    long fail_at;           /* fail the sink at this record (1-based) */
    bool quiet;             /* count only */
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

static int
sink(void *arg, const struct etl_csv_record *rec, struct etl_err *err)
{
    struct got *g = arg;
    char num[32];

    g->records++;
    if (g->fail_at > 0 && (long)g->records == g->fail_at) {
        return etl_err_set(err, ETL_E_DB, "sink refused at line %lu", rec->line);
    }
    assert_non_null(rec->raw);
    assert_int_equal(strlen(rec->raw), rec->raw_len);
    if (g->quiet) {
        return 0;
    }
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

/* A reader whose next link renders into 'g'; json_free() frees both. */
static struct etl_json *
json_new(const char *path, size_t max, struct got *g, struct etl_err *err)
{
    struct etl_stage *next = calloc(1, sizeof(*next));
    struct etl_json *j;

    assert_non_null(next);
    next->kind = &sink_kind;
    next->name = (char *)"sink";
    next->ctx = g;
    j = etl_json_new(path, max, next, err);
    if (j == NULL) {
        free(next);
    }
    return j;
}

static void
json_free(struct etl_json *j)
{
    struct etl_stage *next = etl_json_link(j)->next;

    etl_json_free(j);
    free(next);
}

static uint32_t rng_state = 4242;

static uint32_t
rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/*
 * Read 'in' with 'path' and 'max': first 'at' bytes, then pieces of
 * 'piece' bytes (0: the rest whole; SIZE_MAX: random sizes).  Returns the
 * rendering (caller frees) and the error in *err (0 or -1 in *rc).
 */
static char *
read_cut(const char *in, size_t n, const char *path, size_t max, size_t at,
         size_t piece, struct etl_err *err, int *rc)
{
    struct got g;
    struct etl_json *j;
    size_t pos = 0;

    memset(&g, 0, sizeof(g));
    got_add(&g, "", 0);
    etl_err_clear(err);
    j = json_new(path, max, &g, err);
    assert_non_null(j);
    *rc = 0;
    if (at > 0) {
        *rc = etl_json_feed(j, in, at, err);
        pos = at;
    }
    while (*rc == 0 && pos < n) {
        size_t k = piece == 0 ? n - pos : piece == SIZE_MAX ? 1 + rng() % 37 : piece;

        if (k > n - pos) {
            k = n - pos;
        }
        *rc = etl_json_feed(j, in + pos, k, err);
        pos += k;
    }
    if (*rc == 0) {
        *rc = etl_json_finish(j, err);
    }
    json_free(j);
    return g.s;
}

/*
 * Read 'in' whole, cut at every offset, byte by byte and in random pieces:
 * every way gives the records 'want' (and, if 'msg' is not NULL, fails
 * with ETL_E_DATA 'msg' at 'where' after them).
 */
static void
check_full(const char *in, const char *path, size_t max, const char *want,
           const char *msg, const char *where)
{
    size_t n = strlen(in);

    for (size_t way = 0; way < n + 3; way++) {
        size_t at = way < n ? way : 0;
        size_t piece = way == n ? 0 : way == n + 1 ? 1 : way == n + 2 ? SIZE_MAX : 0;
        struct etl_err err;
        int rc;
        char *s = read_cut(in, n, path, max, at, piece, &err, &rc);

        if (msg == NULL) {
            if (rc != 0) {
                fprintf(stderr, "way %zu: %s at %s\n", way, err.msg, err.where);
            }
            assert_int_equal(rc, 0);
            assert_int_equal(err.code, ETL_E_NONE);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(err.code, ETL_E_DATA);
            assert_string_equal(err.msg, msg);
            assert_string_equal(err.where, where);
        }
        assert_string_equal(s, want);
        free(s);
    }
}

static void
check(const char *in, const char *path, size_t max, const char *want)
{
    check_full(in, path, max, want, NULL, NULL);
}

/* Read 'in' whole; it fails: return the error (records in *recs, freed). */
static struct etl_err
fails(const char *in, const char *path, size_t *recs)
{
    struct etl_err err;
    int rc;
    char *s = read_cut(in, strlen(in), path, 0, 0, 0, &err, &rc);

    assert_int_equal(rc, -1);
    if (recs != NULL) {
        *recs = 0;
        for (const char *p = s; *p != '\0'; p++) {
            *recs += *p == '\n';
        }
    }
    free(s);
    return err;
}

/* ---- records ------------------------------------------------------------- */

static void
test_top_array(void **state)
{
    (void)state;
    check("[{\"region\":\"GD\",\"value\":\"1,127\"},{\"region\":\"GX\",\"value\":\"5\"}]",
          NULL, 0,
          "1|region\tvalue|[region][value]|\n"
          "1|{\"region\":\"GD\",\"value\":\"1,127\"}|[GD][1,127]|\n"
          "1|{\"region\":\"GX\",\"value\":\"5\"}|[GX][5]|\n");
    /* white space around and inside; "" as a path is no path */
    check(" \r\n[ { \"a\" : \"x\" } , {\"a\":\"y\"} ]\r\n ", "", 0,
          "2|a|[a]|\n"
          "2|{\"a\":\"x\"}|[x]|\n"
          "2|{\"a\":\"y\"}|[y]|\n");
}

static void
test_path(void **state)
{
    (void)state;
    check("{\"code\":0,\"msg\":\"ok\",\"data\":{\"total\":2,"
          "\"list\":[{\"k\":\"a\"},{\"k\":\"b\"}],\"more\":[1,{\"k\":9}]},"
          "\"list\":[{\"x\":1}]}",
          "data.list", 0,
          "1|k|[k]|\n"
          "1|{\"k\":\"a\"}|[a]|\n"
          "1|{\"k\":\"b\"}|[b]|\n");
    /* one key; objects and arrays before it are skipped, nested too */
    check("{\"meta\":{\"rows\":[{\"k\":0}],\"rows2\":{\"rows\":[]}},\"rows\":[{\"k\":1}]}",
          "rows", 0,
          "1|k|[k]|\n"
          "1|{\"k\":1}|[1]|\n");
    /* the first occurrence of a key is followed */
    check("{\"d\":{\"l\":[{\"k\":1}]},\"d\":{\"l\":[{\"k\":2}]}}", "d.l", 0,
          "1|k|[k]|\n"
          "1|{\"k\":1}|[1]|\n");
    /* three levels, keys in Chinese */
    check("{\"\xe6\x95\xb0\xe6\x8d\xae\":{\"a\":{\"b\":[{\"k\":\"v\"}]}}}",
          "\xe6\x95\xb0\xe6\x8d\xae.a.b", 0,
          "1|k|[k]|\n"
          "1|{\"k\":\"v\"}|[v]|\n");
}

static void
test_key_order_and_missing(void **state)
{
    (void)state;
    /* columns follow the first object; raw keeps each object's order */
    check("[{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"},"
          "{\"c\":\"6\",\"a\":\"4\",\"b\":\"5\"},"
          "{\"b\":\"8\"},"
          "{}]",
          NULL, 0,
          "1|a\tb\tc|[a][b][c]|\n"
          "1|{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}|[1][2][3]|\n"
          "1|{\"c\":\"6\",\"a\":\"4\",\"b\":\"5\"}|[4][5][6]|\n"
          "1|{\"b\":\"8\"}|[][8][]|\n"
          "1|{}|[][][]|\n");
}

static void
test_extra_and_nested(void **state)
{
    (void)state;
    check("[{\"a\":1,\"b\":2},{\"a\":3,\"x\":\"?\",\"b\":4},{\"a\":5,\"b\":6}]", NULL, 0,
          "1|a\tb|[a][b]|\n"
          "1|{\"a\":1,\"b\":2}|[1][2]|\n"
          "1|{\"a\":3,\"x\":\"?\",\"b\":4}|[3][4]|key \"x\" is not in the first "
          "record's keys\n"
          "1|{\"a\":5,\"b\":6}|[5][6]|\n");
    /* nested values: the record is bad, raw keeps them */
    check("[{\"a\":{\"p\":[1,{\"q\":null}],\"r\":{}},\"b\":2},{\"a\":1,\"b\":[3,[]]}]",
          NULL, 0,
          "1|a\tb|[a][b]|\n"
          "1|{\"a\":{\"p\":[1,{\"q\":null}],\"r\":{}},\"b\":2}|[][2]|key \"a\" holds an "
          "object, not a value\n"
          "1|{\"a\":1,\"b\":[3,[]]}|[1][]|key \"b\" holds an array, not a value\n");
    /* a key twice, in the first object and later; the first reason wins */
    check("[{\"a\":1,\"a\":2,\"b\":3},{\"b\":1,\"b\":2,\"z\":0}]", NULL, 0,
          "1|a\tb|[a][b]|\n"
          "1|{\"a\":1,\"a\":2,\"b\":3}|[1][3]|key \"a\" appears twice in the object\n"
          "1|{\"b\":1,\"b\":2,\"z\":0}|[][1]|key \"b\" appears twice in the object\n");
    /* \u0000 in a value or a key */
    check("[{\"a\":\"x\\u0000y\"},{\"a\\u0000\":1}]", NULL, 0,
          "1|a|[a]|\n"
          "1|{\"a\":\"x\\u0000y\"}|[]|key \"a\" holds a NUL character\n"
          "1|{\"a\\u0000\":1}|[]|key \"a\" holds a NUL character\n");
}

static void
test_not_objects(void **state)
{
    (void)state;
    check("[{\"a\":1},2,\"s\",true,false,null,[1,{\"b\":2}],{\"a\":3}]", NULL, 0,
          "1|a|[a]|\n"
          "1|{\"a\":1}|[1]|\n"
          "1|2||array element is a number, not an object\n"
          "1|\"s\"||array element is a string, not an object\n"
          "1|true||array element is true, not an object\n"
          "1|false||array element is false, not an object\n"
          "1|null||array element is null, not an object\n"
          "1|[1,{\"b\":2}]||array element is an array, not an object\n"
          "1|{\"a\":3}|[3]|\n");
    /* before the first object: it comes before the header */
    check("[7,{\"a\":1}]", NULL, 0,
          "1|7||array element is a number, not an object\n"
          "1|a|[a]|\n"
          "1|{\"a\":1}|[1]|\n");
}

static void
test_scalars(void **state)
{
    (void)state;
    check("[{\"n\":null,\"t\":true,\"f\":false,\"e\":\"\"}]", NULL, 0,
          "1|n\tt\tf\te|[n][t][f][e]|\n"
          "1|{\"n\":null,\"t\":true,\"f\":false,\"e\":\"\"}|[][true][false][]|\n");
    /* numbers are their text as written */
    check("[{\"a\":1.10,\"b\":-0,\"c\":1e3,\"d\":342.30,\"e\":-1.5E+10,\"f\":0,"
          "\"g\":12345678901234567890123}]",
          NULL, 0,
          "1|a\tb\tc\td\te\tf\tg|[a][b][c][d][e][f][g]|\n"
          "1|{\"a\":1.10,\"b\":-0,\"c\":1e3,\"d\":342.30,\"e\":-1.5E+10,\"f\":0,"
          "\"g\":12345678901234567890123}|[1.10][-0][1e3][342.30][-1.5E+10][0]"
          "[12345678901234567890123]|\n");
}

static void
test_strings(void **state)
{
    (void)state;
    /* \u escapes decoded (BMP and a surrogate pair), raw UTF-8 kept */
    check("[{\"\\u5730\\u533a\":\"\\u5e7f\\u4e1c\",\"\xe6\x8c\x87\xe6\xa0\x87\":"
          "\"\xe5\xbc\x95\xe5\xaf\xbc\xe4\xbc\x81\xe4\xb8\x9a\",\"e\":\"\\ud83d\\ude00\"}]",
          NULL, 0,
          "1|\xe5\x9c\xb0\xe5\x8c\xba\t\xe6\x8c\x87\xe6\xa0\x87\te|"
          "[\xe5\x9c\xb0\xe5\x8c\xba][\xe6\x8c\x87\xe6\xa0\x87][e]|\n"
          "1|{\"\xe5\x9c\xb0\xe5\x8c\xba\":\"\xe5\xb9\xbf\xe4\xb8\x9c\",\"\xe6\x8c\x87"
          "\xe6\xa0\x87\":\"\xe5\xbc\x95\xe5\xaf\xbc\xe4\xbc\x81\xe4\xb8\x9a\","
          "\"e\":\"\xf0\x9f\x98\x80\"}|[\xe5\xb9\xbf\xe4\xb8\x9c]"
          "[\xe5\xbc\x95\xe5\xaf\xbc\xe4\xbc\x81\xe4\xb8\x9a][\xf0\x9f\x98\x80]|\n");
    /* escapes in values; raw escapes them again */
    check("[{\"s\":\"q\\\"b\\\\s\\/t\\tn\\nc\\u0001\"}]", NULL, 0,
          "1|s|[s]|\n"
          "1|{\"s\":\"q\\\"b\\\\s/t\\tn\\nc\\u0001\"}|[q\"b\\s/t\tn\nc\x01]|\n");
}

static void
test_pretty_lines(void **state)
{
    (void)state;
    check("{\n"
          "  \"code\": 0,\n"
          "  \"data\": {\n"
          "    \"list\": [\n"
          "      {\n"
          "        \"region\": \"GD\",\n"
          "        \"value\": 1.5\n"
          "      },\n"
          "      {\n"
          "        \"value\": 2,\n"
          "        \"region\": \"GX\"\n"
          "      }, {\"region\": \"YN\", \"value\": 3},\n"
          "\n"
          "      {\"region\": \"SC\",\n"
          "       \"value\": 4}\n"
          "    ]\n"
          "  }\n"
          "}\n",
          "data.list", 0,
          "5|region\tvalue|[region][value]|\n"
          "5|{\"region\":\"GD\",\"value\":1.5}|[GD][1.5]|\n"
          "9|{\"value\":2,\"region\":\"GX\"}|[GX][2]|\n"
          "12|{\"region\":\"YN\",\"value\":3}|[YN][3]|\n"
          "14|{\"region\":\"SC\",\"value\":4}|[SC][4]|\n");
    /* CRLF line ends; a record whose '{' ends its line */
    check("[\r\n{\"a\":1},\r\n{\r\n\"a\":2}]\r\n", NULL, 0,
          "2|a|[a]|\n"
          "2|{\"a\":1}|[1]|\n"
          "3|{\"a\":2}|[2]|\n");
}

static void
test_empty_and_bom(void **state)
{
    (void)state;
    /* an empty array: no records, not even a header */
    check("[]", NULL, 0, "");
    check("{\"data\":{\"list\":[]}}", "data.list", 0, "");
    /* a UTF-8 BOM is skipped */
    check("\xef\xbb\xbf[{\"a\":1}]", NULL, 0,
          "1|a|[a]|\n"
          "1|{\"a\":1}|[1]|\n");
    check("\xef\xbb\xbf\n {\"d\":[{\"a\":1}]}", "d", 0,
          "2|a|[a]|\n"
          "2|{\"a\":1}|[1]|\n");
    /* an empty first object: a header of no fields */
    check("[{},{\"a\":1}]", NULL, 0,
          "1|||\n"
          "1|{}||\n"
          "1|{\"a\":1}||key \"a\" is not in the first record's keys\n");
}

static void
test_too_long(void **state)
{
    (void)state;
    /* raw cut at the limit, values past the cut dropped, next one fine */
    check("[{\"a\":\"12\",\"b\":\"34\"},{\"a\":\"5\",\"b\":\"67890\"},{\"a\":\"x\",\"b\":\"y\"}]",
          NULL, 19,
          "1|a\tb|[a][b]|\n"
          "1|{\"a\":\"12\",\"b\":\"34\"}|[12][34]|\n"
          "1|{\"a\":\"5\",\"b\":\"67890|[5][]|record longer than 19 bytes\n"
          "1|{\"a\":\"x\",\"b\":\"y\"}|[x][y]|\n");
    /* the cut does not split a character */
    check("[{\"a\":\"\xe4\xb8\xad\",\"b\":\"\xe4\xb8\xad\xe4\xb8\xad\"}]", NULL, 17,
          "1|a\tb|[a][b]|\n"
          "1|{\"a\":\"\xe4\xb8\xad\",\"b\":\"|[\xe4\xb8\xad][]|record longer than 17 bytes\n");
}

/* ---- failures -------------------------------------------------------------- */

static void
test_syntax_errors(void **state)
{
    (void)state;
    /* the records before the error have gone on */
    check_full("[{\"a\":1},\n {\"a\":2,}]", NULL, 0,
               "1|a|[a]|\n"
               "1|{\"a\":1}|[1]|\n",
               "invalid JSON: invalid object key (must be a string)", "line 2, column 9");
    check_full("[1,2,}", NULL, 0,
               "1|1||array element is a number, not an object\n"
               "1|2||array element is a number, not an object\n",
               "invalid JSON: unallowed token at this point in JSON text",
               "line 1, column 6");
    check_full("[{\"\xe4\xb8\xad\":tru }]", NULL, 0, "",
               "invalid JSON: invalid string in json text", "line 1, column 10");
    check_full("[\n{\"a\" 1}]", NULL, 0, "",
               "invalid JSON: object key and value must be separated by a colon (':')",
               "line 2, column 6");
    check_full("[{\"a\":01}]", NULL, 0, "",
               "invalid JSON: after key and value, inside map, I expect ',' or '}'",
               "line 1, column 8");
    /* truncated, empty, trailing text, two documents */
    check_full("[{\"a\":1}\n", NULL, 0,
               "1|a|[a]|\n"
               "1|{\"a\":1}|[1]|\n",
               "invalid JSON: premature EOF", "line 2, column 1");
    check_full("", NULL, 0, "", "invalid JSON: premature EOF", "line 1, column 1");
    check_full("  \n ", NULL, 0, "", "invalid JSON: premature EOF", "line 2, column 2");
    check_full("[] x", NULL, 0, "", "invalid JSON: trailing garbage", "line 1, column 4");
    check_full("[]\n[]", NULL, 0, "", "invalid JSON: trailing garbage", "line 2, column 1");
    /* a BOM cut short is not one */
    check_full("\xef\xbb[]", NULL, 0, "",
               "invalid JSON: invalid char in json text", "line 1, column 1");
}

static void
test_path_not_found(void **state)
{
    struct etl_err err;
    size_t recs;

    (void)state;
    err = fails("{\"code\":0,\n\"data\":{\"total\":0,\"rows\":[]}\n}", "data.list", &recs);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "no array at \"data.list\" in the JSON");
    assert_string_equal(err.detail, "\"data\" has keys \"total\", \"rows\"");
    assert_string_equal(err.where, "line 2");
    assert_int_equal(recs, 0);

    err = fails("{\"code\":500,\"msg\":\"error\"}", "data.list", NULL);
    assert_string_equal(err.msg, "no array at \"data.list\" in the JSON");
    assert_string_equal(err.detail, "the top-level object has keys \"code\", \"msg\"");
    assert_string_equal(err.where, "line 1");

    err = fails("{}", "data", NULL);
    assert_string_equal(err.detail, "the top-level object is empty");
    err = fails("{\"data\":{}}", "data.list", NULL);
    assert_string_equal(err.detail, "\"data\" is empty");

    /* the wrong type on the way or at the end */
    err = fails("{\"data\":[{\"a\":1}]}", "data.list", NULL);
    assert_string_equal(err.msg, "no array at \"data.list\" in the JSON");
    assert_string_equal(err.detail, "\"data\" is an array, not an object");
    assert_string_equal(err.where, "line 1");
    err = fails("{\"data\":\n{\"list\":{\"a\":1}}}", "data.list", NULL);
    assert_string_equal(err.detail, "\"data.list\" is an object, not an array");
    assert_string_equal(err.where, "line 2");
    err = fails("{\"data\":{\"list\":null}}", "data.list", NULL);
    assert_string_equal(err.detail, "\"data.list\" is null, not an array");

    /* a top-level array with a path */
    err = fails("[{\"a\":1}]", "data.list", NULL);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "no array at \"data.list\" in the JSON");
    assert_string_equal(err.detail, "the JSON is an array, not an object");
    assert_string_equal(err.hint, "the top level is an array: leave records: unset");
    err = fails("\"x\"", "d", NULL);
    assert_string_equal(err.detail, "the JSON is a string, not an object");
    assert_string_equal(err.hint, "");

    /* many keys: the detail is cut */
    {
        char in[4096];
        size_t n = 0;

        n += (size_t)snprintf(in + n, sizeof(in) - n, "{");
        for (int i = 0; i < 100; i++) {
            n += (size_t)snprintf(in + n, sizeof(in) - n, "%s\"key%03d\":%d",
                                  i > 0 ? "," : "", i, i);
        }
        snprintf(in + n, sizeof(in) - n, "}");
        err = fails(in, "data", NULL);
        assert_true(strncmp(err.detail, "the top-level object has keys \"key000\", "
                            "\"key001\", ", 48) == 0);
        assert_non_null(strstr(err.detail, "\"key027\", \"key028\" and 71 more"));
        assert_true(strlen(err.detail) < 400);
    }
}

static void
test_top_object_without_path(void **state)
{
    struct etl_err err;

    (void)state;
    err = fails("{\"code\":0,\n\"data\":{\"list\":[{\"a\":1}]}}", NULL, NULL);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "the JSON is an object, not an array of records");
    assert_string_equal(err.detail, "its keys are \"code\", \"data\"");
    assert_string_equal(err.hint, "set records: to the path of the array");
    assert_string_equal(err.where, "line 2");
    err = fails("{}", "", NULL);
    assert_string_equal(err.detail, "it is empty");
    assert_string_equal(err.hint, "set records: to the path of the array");
    /* a top-level scalar */
    err = fails("42", NULL, NULL);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "the JSON is a number, not an array of records");
    assert_string_equal(err.where, "line 1");
    /* the same, cut anywhere */
    check_full("{\"a\":[]}", NULL, 0, "", "the JSON is an object, not an array of records",
               "line 1");
}

static void
test_limits(void **state)
{
    size_t n = 3000;
    char *in = malloc(2 * n + 16);
    struct etl_err err;

    (void)state;
    /* one value longer than the limit: yajl would hold it, the file fails */
    check_full("[{\"a\":\"1\"},\n{\"a\":\"0123456789abcdefghij\"}]", NULL, 16,
               "1|a|[a]|\n"
               "1|{\"a\":\"1\"}|[1]|\n",
               "JSON value longer than 16 bytes", "line 2");
    /* ... also outside the records */
    check_full("{\"x\":\"0123456789abcdefghij\",\"d\":[]}", "d", 16, "",
               "JSON value longer than 16 bytes", "line 1");
    /* nesting */
    memset(in, '[', n);
    memset(in + n, ']', n);
    in[2 * n] = '\0';
    err = fails(in, NULL, NULL);
    assert_int_equal(err.code, ETL_E_DATA);
    assert_string_equal(err.msg, "JSON nested deeper than 1024 levels");
    assert_string_equal(err.where, "line 1");
    /* 1024 levels are fine: the element is an array of 1022 nested */
    memset(in, '[', 1024);
    memset(in + 1024, ']', 1024);
    in[2048] = '\0';
    {
        int rc;
        char *s = read_cut(in, 2048, NULL, 0, 0, 0, &err, &rc);

        assert_int_equal(rc, 0);
        assert_int_equal(strncmp(s, "1|[[[", 5), 0);
        assert_int_equal(strlen(s), 2 + 2046 + 2 + strlen("array element is an array, "
                                                           "not an object\n"));
        free(s);
    }
    free(in);
}

/* ---- the reader as an object and a link ------------------------------------ */

static void
test_new_errors_and_magic(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_null(json_new("data..list", 0, NULL, &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "invalid records path \"data..list\": empty key");
    etl_err_clear(&err);
    assert_null(json_new(".x", 0, NULL, &err));
    assert_string_equal(err.msg, "invalid records path \".x\": empty key");
    etl_err_clear(&err);
    assert_null(json_new("x.", 0, NULL, &err));
    etl_json_free(NULL);

    assert_true(etl_json_magic("[", 1));
    assert_true(etl_json_magic(" \r\n\t{\"a\"", 8));
    assert_true(etl_json_magic("\xef\xbb\xbf\n[", 5));
    assert_false(etl_json_magic("", 0));
    assert_false(etl_json_magic("  \n", 3));
    assert_false(etl_json_magic("a,b\n", 4));
    assert_false(etl_json_magic("\xef\xbb\xbf", 3));
    assert_false(etl_json_magic("\xef\xbb[", 3));
    assert_false(etl_json_magic("\"x\"", 3));
}

static void
test_link_and_reset(void **state)
{
    static const struct etl_chunk_type other = { .name = "rows" };
    struct got g;
    struct etl_verdict v = { 0 };
    struct etl_err err;
    struct etl_json *j;
    struct etl_stage *link;
    struct etl_chunk text = { .bytes = "[{\"a\":1},\n{\"a\":2}", .len = 17 };
    struct etl_chunk end = { .bytes = "]", .len = 1 };
    struct etl_chunk wrong = { .type = &other, .data = &g, .len = 1 };

    (void)state;
    memset(&g, 0, sizeof(g));
    etl_err_clear(&err);
    j = json_new(NULL, 0, &g, &err);
    link = etl_json_link(j);
    assert_ptr_equal(link->kind, &etl_json_link_kind);
    assert_ptr_equal(link->ctx, j);
    assert_string_equal(link->name, "json");
    link_finishes = 0;
    assert_int_equal(link->kind->process(link, &text, &err), 0);
    assert_string_equal(g.s, "1|a|[a]|\n1|{\"a\":1}|[1]|\n2|{\"a\":2}|[2]|\n");
    assert_int_equal(link->kind->process(link, &end, &err), 0);
    assert_int_equal(link_finishes, 0);
    assert_int_equal(link->kind->finish(link, &v, &err), 0);
    assert_int_equal(link_finishes, 1);
    assert_int_equal(g.records, 3);
    /* another chunk type is refused */
    assert_int_equal(link->kind->process(link, &wrong, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "the JSON reader expects bytes, not rows");

    /* the next link's error stops the reader; the next is not finished */
    etl_json_reset(j);
    etl_err_clear(&err);
    g.records = 0;
    g.fail_at = 3;
    assert_int_equal(link->kind->process(link, &text, &err), -1);
    assert_int_equal(err.code, ETL_E_DB);
    assert_string_equal(err.msg, "sink refused at line 2");
    /* used again without a reset */
    etl_err_clear(&err);
    assert_int_equal(etl_json_feed(j, "]", 1, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_int_equal(link->kind->finish(link, &v, &err), -1);
    assert_int_equal(link_finishes, 1);

    /* a failed finish does not finish the next link either */
    etl_json_reset(j);
    etl_err_clear(&err);
    g.fail_at = 0;
    assert_int_equal(link->kind->process(link, &text, &err), 0);
    assert_int_equal(link->kind->finish(link, &v, &err), -1);
    assert_string_equal(err.msg, "invalid JSON: premature EOF");
    assert_int_equal(link_finishes, 1);

    /* reset: a new file, at line 1, with its own header */
    etl_json_reset(j);
    etl_err_clear(&err);
    free(g.s);
    memset(&g, 0, sizeof(g));
    assert_int_equal(etl_json_feed(j, "[{\"b\":", 6, &err), 0);
    etl_json_reset(j);
    assert_int_equal(etl_json_feed(j, "\n[{\"c\":true}]", 13, &err), 0);
    assert_int_equal(etl_json_finish(j, &err), 0);
    assert_string_equal(g.s, "2|c|[c]|\n2|{\"c\":true}|[true]|\n");
    json_free(j);
    free(g.s);
}

/* 200,000 records in 4 KiB blocks: the footprint does not grow. */
static void
test_footprint(void **state)
{
    const size_t nrec = 200000;
    struct got g;
    struct etl_err err;
    struct etl_json *j;
    char *doc;
    size_t n = 0, cap = nrec * 120 + 64, peak = 0, after_first = 0;

    (void)state;
    doc = malloc(cap);
    assert_non_null(doc);
    n += (size_t)snprintf(doc + n, cap - n, "{\"code\":0,\"data\":{\"list\":[\n");
    for (size_t i = 0; i < nrec; i++) {
        n += (size_t)snprintf(doc + n, cap - n,
                              "%s  {\"\xe5\x9c\xb0\xe5\x8c\xba\":\"r%zu\",\"indicator\":"
                              "\"x\\u4e2d\",\"period\":\"2021\",\"value\":%zu.%02zu}",
                              i > 0 ? ",\n" : "", i % 977, i, i % 100);
    }
    n += (size_t)snprintf(doc + n, cap - n, "\n]}}\n");
    memset(&g, 0, sizeof(g));
    g.quiet = true;
    etl_err_clear(&err);
    j = json_new("data.list", 0, &g, &err);
    assert_non_null(j);
    for (size_t pos = 0; pos < n; pos += 4096) {
        size_t fp;

        assert_int_equal(etl_json_feed(j, doc + pos, n - pos < 4096 ? n - pos : 4096,
                                       &err), 0);
        fp = etl_json_footprint(j);
        if (pos == 8192) {
            after_first = fp;
        }
        if (fp > peak) {
            peak = fp;
        }
    }
    assert_int_equal(etl_json_finish(j, &err), 0);
    assert_int_equal(g.records, nrec + 1);
    assert_true(peak < 1024 * 1024);
    assert_int_equal(etl_json_footprint(j), after_first);
    json_free(j);
    free(doc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_array),
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_key_order_and_missing),
        cmocka_unit_test(test_extra_and_nested),
        cmocka_unit_test(test_not_objects),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_pretty_lines),
        cmocka_unit_test(test_empty_and_bom),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_path_not_found),
        cmocka_unit_test(test_top_object_without_path),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_new_errors_and_magic),
        cmocka_unit_test(test_link_and_reset),
        cmocka_unit_test(test_footprint),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
