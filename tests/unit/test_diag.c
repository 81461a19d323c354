/*
 * test_diag.c
 *    The error list of a collecting load: etl_diags (order, the first kept,
 *    the cap), the compiler-style line of an error (context before the
 *    message, a path with ", " in it), sorting by line; the key check that
 *    goes on (etl_node_check_all) and a whole configuration checked in one
 *    pass (etl_config_check) against the first error of etl_config_load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etl/config.h"
#include "etl/diag.h"
#include "etl/pipeline.h"

static char yaml[64];

/* An error 'msg' placed at 'where'. */
static struct etl_err
err_at(const char *where, const char *msg)
{
    struct etl_err e;

    etl_err_clear(&e);
    etl_err_set(&e, ETL_E_CONFIG, "%s", msg);
    etl_err_where(&e, "%s", where);
    return e;
}

static void
test_list(void **state)
{
    struct etl_diags d;
    struct etl_err e;

    (void)state;
    etl_diags_init(&d);
    assert_int_equal(etl_diags_count(&d), 0);
    e = err_at("a.yaml:3:1", "one");
    assert_int_equal(etl_diags_add(&d, &e), -1);
    assert_int_equal(e.code, ETL_E_NONE);       /* cleared for the next step */
    e = err_at("a.yaml:1:1", "two");
    etl_diags_add(&d, &e);
    etl_err_clear(&e);
    etl_diags_add(&d, &e);                      /* a -1 without an error */
    assert_int_equal(etl_diags_count(&d), 3);
    assert_string_equal(d.errs[0].msg, "one");
    assert_string_equal(d.errs[1].msg, "two");
    assert_int_equal(d.errs[2].code, ETL_E_INTERNAL);
    assert_string_equal(d.errs[2].msg, "unknown error");
    assert_string_equal(d.first.msg, "one");
    etl_diags_sort(&d);
    assert_string_equal(d.errs[0].msg, "unknown error");   /* no line: first */
    assert_string_equal(d.errs[1].msg, "two");
    assert_string_equal(d.errs[2].msg, "one");
    assert_string_equal(d.first.msg, "one");    /* still the first found */
    etl_diags_free(&d);
    /* by file, then line and column; one place keeps the order found; a context */
    e = err_at("b.yaml:1:1", "b1");
    etl_diags_add(&d, &e);
    e = err_at("a.yaml:5:2", "a5-2");
    etl_diags_add(&d, &e);
    e = err_at("a.yaml:5:1", "a5-1 first");
    etl_diags_add(&d, &e);
    e = err_at("a.yaml:5:1", "a5-1 second");
    etl_err_context(&e, "pipeline \"p\"");
    etl_diags_add(&d, &e);
    e = err_at("a.yaml:10:1", "a10");
    etl_diags_add(&d, &e);
    etl_diags_sort(&d);
    assert_string_equal(d.errs[0].msg, "a5-1 first");
    assert_string_equal(d.errs[1].msg, "a5-1 second");
    assert_string_equal(d.errs[2].msg, "a5-2");
    assert_string_equal(d.errs[3].msg, "a10");
    assert_string_equal(d.errs[4].msg, "b1");
    etl_diags_free(&d);
    assert_int_equal(etl_diags_count(&d), 0);
}

static void
test_cap(void **state)
{
    struct etl_diags d;

    (void)state;
    etl_diags_init(&d);
    for (int i = 0; i < ETL_DIAGS_MAX + 5; i++) {
        struct etl_err e = err_at("a.yaml:1:1", "x");

        etl_diags_add(&d, &e);
    }
    assert_int_equal(d.n, ETL_DIAGS_MAX);
    assert_int_equal(d.dropped, 5);
    assert_int_equal(etl_diags_count(&d), ETL_DIAGS_MAX + 5);
    etl_diags_free(&d);
}

static void
expect_line(const struct etl_err *e, const char *file, const char *want)
{
    char out[2048];

    etl_diag_format(e, file, out, sizeof(out));
    assert_string_equal(out, want);
}

static void
test_format(void **state)
{
    struct etl_err e;

    (void)state;
    e = err_at("p.yaml:14:7", "unknown key \"urll\"");
    etl_err_hint(&e, "did you mean \"urls\"?");
    expect_line(&e, "p.yaml", "p.yaml:14:7: unknown key \"urll\"; hint: did you mean \"urls\"?");
    /* a context before the location goes before the message */
    e = err_at("p.yaml:20:17", "unknown stage \"x\"");
    etl_err_context(&e, "pipeline \"p\"");
    expect_line(&e, "p.yaml", "p.yaml:20:17: pipeline \"p\": unknown stage \"x\"");
    /* a path with ", " in it stays whole when it is the file */
    e = err_at("/tmp/a, b.yaml:2:3", "bad");
    etl_err_context(&e, "pipeline \"p\"");
    expect_line(&e, "/tmp/a, b.yaml", "/tmp/a, b.yaml:2:3: pipeline \"p\": bad");
    /* another file (a catalog's): the part after the last ", " */
    e = err_at("catalog/units.yaml:4:5", "bad unit");
    expect_line(&e, "p.yaml", "catalog/units.yaml:4:5: bad unit");
    /* a line without a column */
    e = err_at("x.csv:12", "short");
    expect_line(&e, "p.yaml", "x.csv:12: short");
    /* no line: the file alone; no where: the file given */
    e = err_at("p.yaml", "empty configuration");
    expect_line(&e, "p.yaml", "p.yaml: empty configuration");
    etl_err_clear(&e);
    etl_err_set(&e, ETL_E_IO, "could not open \"q.yaml\": No such file or directory");
    expect_line(&e, "q.yaml", "q.yaml: could not open \"q.yaml\": No such file or directory");
    /* detail kept */
    e = err_at("p.yaml:9:18", "expected an integer, found \"many\"");
    etl_err_detail(&e, "key \"retries\"");
    expect_line(&e, "p.yaml", "p.yaml:9:18: expected an integer, found \"many\" (key \"retries\")");
}

static void
test_check_all(void **state)
{
    static const struct etl_key keys[] = {
        { "url", ETL_KEY_STR, true, "where to fetch" },
        { "retries", ETL_KEY_INT, false, NULL },
        { "list", ETL_KEY_SEQ, false, NULL },
        { 0 }
    };
    const char *text = "urll: x\nretries: many\nlist: 5\nlist: [1]\nzzzzzz: 1\n";
    struct etl_diags d;
    struct etl_err err;
    struct etl_doc *doc;

    (void)state;
    etl_err_clear(&err);
    doc = etl_doc_parse("t.yaml", text, strlen(text), &err);
    assert_non_null(doc);
    etl_diags_init(&d);
    assert_int_equal(etl_node_check_all(doc->root, keys, "stage \"s\"", &d), -1);
    assert_int_equal(d.n, 6);
    assert_string_equal(d.errs[0].msg, "unknown key \"urll\" in stage \"s\"");
    assert_string_equal(d.errs[0].hint, "did you mean \"url\"?");
    assert_string_equal(d.errs[0].where, "t.yaml:1:1");
    assert_string_equal(d.errs[1].msg, "\"list\" must be a list");
    assert_string_equal(d.errs[1].where, "t.yaml:3:7");
    assert_string_equal(d.errs[2].msg, "key \"list\" given twice in stage \"s\"");
    assert_string_equal(d.errs[3].msg, "unknown key \"zzzzzz\" in stage \"s\"");
    assert_string_equal(d.errs[3].hint, "expected one of: url, retries, list");
    assert_string_equal(d.errs[4].msg, "stage \"s\" has no \"url\" (where to fetch)");
    assert_string_equal(d.errs[5].msg, "expected an integer, found \"many\"");
    assert_string_equal(d.errs[5].where, "t.yaml:2:10");
    /* etl_node_check: the first of them */
    assert_int_equal(etl_node_check(doc->root, keys, "stage \"s\"", &err), -1);
    assert_string_equal(err.msg, d.errs[0].msg);
    etl_diags_free(&d);
    etl_doc_free(doc);
}

/* Write 'text' (a printf format taking the catalog's directory) to 'yaml'. */
static void
write_yaml(const char *text)
{
    char cwd[PATH_MAX];
    FILE *f = fopen(yaml, "w");

    assert_non_null(f);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    fprintf(f, text, cwd);
    fclose(f);
}

static void
test_config_check(void **state)
{
    struct etl_config *cfg;
    struct etl_diags d;
    struct etl_err err;
    char want[128];

    (void)state;
    /* three pipelines, an error in each; a fourth stage error in the first */
    write_yaml("catalog: %s/config/catalog\nspool: /tmp\npipelines:\n"
               "  a:\n    stages:\n"
               "      - { name: fetch, kind: http_fetch, urls: [\"http://h/a\"], retries: many }\n"
               "      - { name: parse, kind: parse_csv, needs: [fetch], delimter: x }\n"
               "      - { name: load, kind: pg_load, needs: [parse] }\n"
               "  b:\n    stages:\n"
               "      - { name: fetch, kind: http_fetch, urls: [\"http://h/a\"] }\n"
               "      - { name: parse, kind: parse_csv, needs: [fecth] }\n"
               "  c:\n    stages:\n"
               "      - { name: fetch, kind: http_fetch, urls: [\"http://h/a\"] }\n"
               "      - { name: load, kind: pg_lod, needs: [fetch] }\n");
    etl_diags_init(&d);
    cfg = etl_config_check(yaml, &d);
    assert_null(cfg);
    assert_int_equal(etl_diags_count(&d), 4);
    assert_string_equal(d.errs[0].msg, "expected an integer, found \"many\"");
    snprintf(want, sizeof(want), "%s:6:73", yaml);
    assert_string_equal(d.errs[0].where, want);
    assert_string_equal(d.errs[1].msg, "unknown key \"delimter\" in stage \"parse\" (parse_csv)");
    assert_string_equal(d.errs[2].msg, "unknown stage \"fecth\" in needs of \"parse\"");
    assert_string_equal(d.errs[2].hint, "did you mean \"fetch\"?");
    assert_string_equal(d.errs[3].msg, "unknown stage kind \"pg_lod\"");
    assert_string_equal(d.errs[3].hint, "did you mean \"pg_load\"?");
    /* run's load: the first of them, as before */
    etl_err_clear(&err);
    assert_null(etl_config_load(yaml, &err));
    assert_string_equal(err.msg, d.errs[0].msg);
    assert_string_equal(err.where, d.errs[0].where);
    etl_diags_free(&d);
}

static void
test_config_check_lint(void **state)
{
    struct etl_config *cfg;
    struct etl_diags d;
    struct etl_err err;

    (void)state;
    /* no load stage: an error of check only; run's load takes it */
    write_yaml("catalog: %s/config/catalog\nspool: /tmp\npipelines:\n"
               "  a:\n    stages:\n"
               "      - { name: fetch, kind: http_fetch, urls: [\"http://h/a\"] }\n"
               "      - { name: parse, kind: parse_csv, needs: [fetch] }\n");
    etl_diags_init(&d);
    assert_null(etl_config_check(yaml, &d));
    assert_int_equal(etl_diags_count(&d), 1);
    assert_string_equal(d.errs[0].msg, "pipeline \"a\" has no load stage: the rows of stage "
                        "\"parse\" (parse_csv) go nowhere");
    assert_string_equal(d.errs[0].hint, "add a stage that needs \"parse\" and keeps its rows: "
                        "pg_load");
    etl_diags_free(&d);
    etl_err_clear(&err);
    cfg = etl_config_load(yaml, &err);
    assert_non_null(cfg);
    etl_config_free(cfg);
    /* a good one: no error, a configuration */
    write_yaml("catalog: %s/config/catalog\nspool: /tmp\npipelines:\n"
               "  a:\n    stages:\n"
               "      - { name: fetch, kind: http_fetch, urls: [\"http://h/a\"] }\n"
               "      - { name: parse, kind: parse_csv, needs: [fetch] }\n"
               "      - { name: load, kind: pg_load, needs: [parse] }\n");
    etl_diags_init(&d);
    cfg = etl_config_check(yaml, &d);
    assert_non_null(cfg);
    assert_int_equal(etl_diags_count(&d), 0);
    etl_config_free(cfg);
    etl_diags_free(&d);
}

static void
test_spool_lint(void **state)
{
    struct etl_node at = { .type = ETL_NODE_SCALAR, .file = "p.yaml", .line = 2, .col = 8 };
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_spool_lint("/tmp", &at, &err), 0);
    assert_int_equal(etl_spool_lint("/tmp/ewc-no-such-dir/a/b", &at, &err), 0);
    assert_int_equal(etl_spool_lint(yaml, &at, &err), -1);      /* a regular file */
    assert_string_equal(err.where, "p.yaml:2:8");
    assert_non_null(strstr(err.msg, "is not a directory"));
    etl_err_clear(&err);
    assert_int_equal(etl_spool_lint("/proc/version/spool", &at, &err), -1);
    assert_string_equal(err.msg, "spool directory \"/proc/version/spool\" cannot be created: "
                        "/proc/version is not a directory");
}

static int
setup(void **state)
{
    int fd;

    (void)state;
    snprintf(yaml, sizeof(yaml), "/tmp/test_diag.XXXXXX");
    fd = mkstemp(yaml);
    if (fd < 0) {
        return -1;
    }
    close(fd);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(yaml);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_check_all),
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_config_check_lint),
        cmocka_unit_test(test_spool_lint),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
