/*
 * test_config.c
 *    The YAML loader: tree shape and marks, interpolation, key tables and
 *    their error messages with file:line:col.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "etl/config.h"

static struct etl_doc *
parse(const char *text, struct etl_err *err)
{
    etl_err_clear(err);
    return etl_doc_parse("t.yaml", text, strlen(text), err);
}

static void
test_tree_and_marks(void **state)
{
    struct etl_err err;
    struct etl_doc *doc = parse("a: 1\nb:\n  - x\n  - 'y'\nc: {d: e}\n", &err);
    const struct etl_node *b, *c;

    (void)state;
    assert_non_null(doc);
    assert_int_equal(doc->root->type, ETL_NODE_MAP);
    assert_int_equal(doc->root->n, 3);
    b = etl_node_get(doc->root, "b");
    assert_non_null(b);
    assert_int_equal(b->type, ETL_NODE_SEQ);
    assert_int_equal(b->n, 2);
    assert_string_equal(b->items[1]->str, "y");
    assert_true(b->items[1]->quoted);
    assert_false(b->items[0]->quoted);
    assert_int_equal(b->items[1]->line, 4);
    assert_int_equal(b->items[1]->col, 5);
    c = etl_node_get(doc->root, "c");
    assert_string_equal(etl_node_get(c, "d")->str, "e");
    assert_null(etl_node_get(doc->root, "zz"));
    etl_doc_free(doc);
}

static void
test_interpolation(void **state)
{
    struct etl_err err;
    char *s;

    (void)state;
    setenv("ETL_T_HOST", "example", 1);
    unsetenv("ETL_T_UNSET");
    setenv("ETL_T_EMPTY", "", 1);
    etl_err_clear(&err);
    s = etl_interpolate("http://${ETL_T_HOST}:${ETL_T_UNSET:-8080}/$$x/${ETL_T_EMPTY:-d}", &err);
    assert_non_null(s);
    assert_string_equal(s, "http://example:8080/$$x/d");
    free(s);
    s = etl_interpolate("a${ETL_T_UNSET}b", &err);
    assert_null(s);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "environment variable ETL_T_UNSET is not set");
    etl_err_clear(&err);
    s = etl_interpolate("a${ETL_T_HOST", &err);
    assert_null(s);
    assert_string_equal(err.msg, "unterminated \"${\" in \"a${ETL_T_HOST\"");
    etl_err_clear(&err);
    s = etl_interpolate("${BAD-NAME}", &err);
    assert_null(s);
    assert_string_equal(err.msg, "bad variable name \"BAD-NAME\"");
}

static void
test_interpolation_keeps_dollars(void **state)
{
    struct etl_err err;
    char *s;

    (void)state;
    setenv("ETL_T_HOST", "example", 1);
    unsetenv("ETL_T_UNSET");
    etl_err_clear(&err);
    /* PL/pgSQL bodies and parameters pass through */
    s = etl_interpolate("CREATE FUNCTION f(int) RETURNS int AS $$ SELECT $1 + 1 $$ "
                        "LANGUAGE sql; DO $body$ BEGIN END $body$", &err);
    assert_non_null(s);
    assert_string_equal(s, "CREATE FUNCTION f(int) RETURNS int AS $$ SELECT $1 + 1 $$ "
                           "LANGUAGE sql; DO $body$ BEGIN END $body$");
    free(s);
    s = etl_interpolate("$$$ $ a$ $", &err);
    assert_non_null(s);
    assert_string_equal(s, "$$$ $ a$ $");
    free(s);
    s = etl_interpolate("$", &err);
    assert_non_null(s);
    assert_string_equal(s, "$");
    free(s);
    /* "$${" is a literal "${", the name after it is not looked up */
    s = etl_interpolate("$${ETL_T_UNSET} $${ETL_T_HOST:-x} $$$${", &err);
    assert_non_null(s);
    assert_string_equal(s, "${ETL_T_UNSET} ${ETL_T_HOST:-x} $$${");
    free(s);
    /* and expansion next to dollars */
    s = etl_interpolate("$$ ${ETL_T_HOST}$1 $$", &err);
    assert_non_null(s);
    assert_string_equal(s, "$$ example$1 $$");
    free(s);
    assert_int_equal(err.code, ETL_E_NONE);
    /* "$" then "{" is still a reference */
    s = etl_interpolate("$$ ${ETL_T_UNSET} $$", &err);
    assert_null(s);
    assert_string_equal(err.msg, "environment variable ETL_T_UNSET is not set");
}

static void
test_sql_body_in_doc(void **state)
{
    struct etl_err err;
    struct etl_doc *doc;

    (void)state;
    setenv("ETL_T_HOST", "example", 1);
    doc = parse("sql: |\n"
                "  CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$\n"
                "  BEGIN NEW.host := '${ETL_T_HOST}'; NEW.v := $1; RETURN NEW; END\n"
                "  $$ LANGUAGE plpgsql;\n", &err);
    assert_non_null(doc);
    assert_string_equal(etl_node_get(doc->root, "sql")->str,
                        "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$\n"
                        "BEGIN NEW.host := 'example'; NEW.v := $1; RETURN NEW; END\n"
                        "$$ LANGUAGE plpgsql;\n");
    etl_doc_free(doc);
}

static void
test_interpolation_in_doc_points_at_node(void **state)
{
    struct etl_err err;
    struct etl_doc *doc;

    (void)state;
    unsetenv("ETL_T_UNSET");
    doc = parse("a: 1\nurl: \"${ETL_T_UNSET}/x\"\n", &err);
    assert_null(doc);
    assert_string_equal(err.where, "t.yaml:2:6");
    assert_string_equal(err.msg, "environment variable ETL_T_UNSET is not set");
}

static void
test_syntax_error(void **state)
{
    struct etl_err err;
    struct etl_doc *doc = parse("a: [1, 2\nb: 3\n", &err);

    (void)state;
    assert_null(doc);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_non_null(strstr(err.msg, "invalid YAML"));
    assert_string_equal(err.where, "t.yaml:2:2");
}

static void
test_aliases_refused(void **state)
{
    struct etl_err err;
    struct etl_doc *doc = parse("a: &x 1\nb: *x\n", &err);

    (void)state;
    assert_null(doc);
    assert_string_equal(err.msg, "YAML anchors are not supported");
    assert_string_equal(err.where, "t.yaml:1:4");
}

static const struct etl_key keys[] = {
    { "url", ETL_KEY_STR, true, "where to fetch" },
    { "retries", ETL_KEY_INT, false, NULL },
    { "ratio", ETL_KEY_NUM, false, NULL },
    { "on", ETL_KEY_BOOL, false, NULL },
    { "list", ETL_KEY_SEQ, false, NULL },
    { 0 }
};

static void
check(const char *text, const char *msg, const char *where, const char *hint)
{
    struct etl_err err;
    struct etl_doc *doc = parse(text, &err);

    assert_non_null(doc);
    assert_int_equal(etl_node_check(doc->root, keys, "stage \"s\"", &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, msg);
    assert_string_equal(err.where, where);
    if (hint != NULL) {
        assert_string_equal(err.hint, hint);
    }
    etl_doc_free(doc);
}

static void
test_key_errors(void **state)
{
    (void)state;
    check("url: x\nurll: y\n", "unknown key \"urll\" in stage \"s\"", "t.yaml:2:1",
          "did you mean \"url\"?");
    check("url: x\nfrobnicate: y\n", "unknown key \"frobnicate\" in stage \"s\"", "t.yaml:2:1",
          "expected one of: url, retries, ratio, on, list");
    check("retries: 3\n", "stage \"s\" has no \"url\" (where to fetch)", "t.yaml:1:1", NULL);
    check("url: x\nretries: many\n", "expected an integer, found \"many\"", "t.yaml:2:10", NULL);
    check("url: x\nratio: 1.5x\n", "\"ratio\" must be a number, found \"1.5x\"", "t.yaml:2:8",
          NULL);
    check("url: x\non: maybe\n", "\"on\" must be true or false", "t.yaml:2:5", NULL);
    check("url: x\nlist: 3\n", "\"list\" must be a list", "t.yaml:2:7", NULL);
    check("url: [a]\n", "\"url\" must be a string", "t.yaml:1:6", NULL);
    check("url: x\nurl: y\n", "key \"url\" given twice in stage \"s\"", "t.yaml:2:1", NULL);
    check("- a\n", "stage \"s\" must be a mapping", "t.yaml:1:1", NULL);
}

static void
test_getters(void **state)
{
    struct etl_err err;
    struct etl_doc *doc = parse("url: x\nretries: 30\nratio: 0.25\non: yes\n", &err);
    const char *s;
    long l;
    double d;
    bool b;

    (void)state;
    assert_int_equal(etl_node_check(doc->root, keys, "s", &err), 0);
    assert_int_equal(etl_node_str(doc->root, "url", NULL, &s, &err), 0);
    assert_string_equal(s, "x");
    assert_int_equal(etl_node_str(doc->root, "none", "dflt", &s, &err), 0);
    assert_string_equal(s, "dflt");
    assert_int_equal(etl_node_double(doc->root, "ratio", 0, 0, 1, &d, &err), 0);
    assert_true(d == 0.25);
    assert_int_equal(etl_node_bool(doc->root, "on", false, &b, &err), 0);
    assert_true(b);
    assert_int_equal(etl_node_long(doc->root, "absent", 7, 0, 10, &l, &err), 0);
    assert_int_equal(l, 7);
    assert_int_equal(etl_node_long(doc->root, "retries", 0, 0, 20, &l, &err), -1);
    assert_string_equal(err.msg, "30 is out of range (0 to 20)");
    assert_string_equal(err.where, "t.yaml:2:10");
    etl_doc_free(doc);
}

static void
test_path_relative(void **state)
{
    char *p;

    (void)state;
    p = etl_path_relative("/etc/ewc/pipeline.yaml", "catalog");
    assert_string_equal(p, "/etc/ewc/catalog");
    free(p);
    p = etl_path_relative("/etc/ewc/pipeline.yaml", "/abs/x");
    assert_string_equal(p, "/abs/x");
    free(p);
    p = etl_path_relative("pipeline.yaml", "catalog");
    assert_string_equal(p, "catalog");
    free(p);
}

static void
test_load_missing_file(void **state)
{
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_null(etl_doc_load("/nonexistent/x.yaml", &err));
    assert_int_equal(err.code, ETL_E_IO);
    assert_string_equal(err.msg,
                        "could not open \"/nonexistent/x.yaml\": No such file or directory");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_marks),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_interpolation_keeps_dollars),
        cmocka_unit_test(test_sql_body_in_doc),
        cmocka_unit_test(test_interpolation_in_doc_points_at_node),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_aliases_refused),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_path_relative),
        cmocka_unit_test(test_load_missing_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
