/*
 * test_resource.c
 *    Named resources of a configuration (etl/resource.c): the merged key
 *    table, loading one of each kind, failure half-way, lookup by name and
 *    freeing; and the catalog resource of the domain wing (etl/ewc/ewc.c)
 *    loaded through etl_config_load from a YAML file.
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
#include <unistd.h>

#include "etl/ewc/ewc.h"
#include "etl/pipeline.h"
#include "etl/resource.h"

/* A fake kind: load gives a malloc'd int, or fails when 'fail' is set. */
static int loads, frees;
static bool fail_second;

static void *
fake_load(const struct etl_node *root, const char *path, char **source, struct etl_err *err)
{
    int *p;

    (void)root;
    (void)path;
    if (fail_second && loads == 1) {
        *source = strdup("half");       /* freed by the engine on failure too */
        etl_err_set(err, ETL_E_CONFIG, "fake refused");
        return NULL;
    }
    p = malloc(sizeof(*p));
    *p = ++loads;
    *source = strdup("from here");
    return p;
}

static void
fake_free(void *res)
{
    frees++;
    free(res);
}

static const struct etl_key a_keys[] = { { "a", ETL_KEY_STR, true, "A" }, { 0 } };
static const struct etl_key b_keys[] = { { "b", ETL_KEY_INT, false, "B" },
                                         { "bb", ETL_KEY_MAP, false, "BB" }, { 0 } };
static const struct etl_resource_kind kind_a = {
    .name = "a", .keys = a_keys, .load = fake_load, .free = fake_free };
static const struct etl_resource_kind kind_b = {
    .name = "b", .keys = b_keys, .load = fake_load, .free = fake_free };
static const struct etl_resource_kind *const kinds[] = { &kind_a, &kind_b, NULL };
static const struct etl_resource_kind *const no_kinds[] = { NULL };

/* The kinds' keys come first, then the engine's, then the end mark. */
static void
test_keys(void **state)
{
    static const struct etl_key base[] = { { "x", ETL_KEY_STR, false, "X" }, { 0 } };
    struct etl_key out[8];
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_resource_keys(base, kinds, out, 8, &err), 0);
    assert_string_equal(out[0].name, "a");
    assert_true(out[0].required);
    assert_string_equal(out[1].name, "b");
    assert_string_equal(out[2].name, "bb");
    assert_string_equal(out[3].name, "x");
    assert_null(out[4].name);
    /* exactly full: 4 keys and the end mark */
    assert_int_equal(etl_resource_keys(base, kinds, out, 5, &err), 0);
    assert_null(out[4].name);
    /* one short */
    assert_int_equal(etl_resource_keys(base, kinds, out, 4, &err), -1);
    assert_int_equal(err.code, ETL_E_INTERNAL);
    assert_string_equal(err.msg, "too many top-level keys");
    etl_err_clear(&err);
    assert_int_equal(etl_resource_keys(base, kinds, out, 2, &err), -1);
    assert_string_equal(err.msg, "too many top-level keys");
    /* no kinds: the engine's keys alone */
    assert_int_equal(etl_resource_keys(base, no_kinds, out, 8, &err), 0);
    assert_string_equal(out[0].name, "x");
    assert_null(out[1].name);
}

/* One of each kind, found by name, each freed once. */
static void
test_load_find_free(void **state)
{
    struct etl_config cfg;
    struct etl_pipeline pl;
    struct etl_stage st;
    struct etl_err err;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    memset(&pl, 0, sizeof(pl));
    memset(&st, 0, sizeof(st));
    loads = frees = 0;
    fail_second = false;
    cfg.path = (char *)"/etc/x.yaml";
    etl_err_clear(&err);
    assert_int_equal(etl_resources_load(&cfg, NULL, kinds, &err), 0);
    assert_int_equal(cfg.nresources, 2);
    assert_string_equal(cfg.resources[0].name, "a");
    assert_string_equal(cfg.resources[0].source, "from here");
    assert_ptr_equal(cfg.resources[1].kind, &kind_b);
    assert_int_equal(*(int *)etl_config_resource(&cfg, "a"), 1);
    assert_int_equal(*(int *)etl_config_resource(&cfg, "b"), 2);
    assert_null(etl_config_resource(&cfg, "c"));
    assert_null(etl_config_resource(&cfg, ""));
    /* through a stage of a pipeline of the configuration */
    pl.config = &cfg;
    st.pipeline = &pl;
    assert_int_equal(*(int *)etl_stage_resource(&st, "b"), 2);
    assert_null(etl_stage_resource(&st, "nope"));
    /* a stage outside any pipeline has none */
    st.pipeline = NULL;
    assert_null(etl_stage_resource(&st, "a"));
    etl_resources_free(&cfg);
    assert_int_equal(frees, 2);
    assert_null(cfg.resources);
    assert_int_equal(cfg.nresources, 0);
    assert_null(etl_config_resource(&cfg, "a"));
    /* twice is harmless */
    etl_resources_free(&cfg);
    assert_int_equal(frees, 2);
    /* no kinds: nothing loaded, nothing allocated */
    assert_int_equal(etl_resources_load(&cfg, NULL, no_kinds, &err), 0);
    assert_null(cfg.resources);
}

/* The second loader fails: its error stands, the first is freed later. */
static void
test_load_fails(void **state)
{
    struct etl_config cfg;
    struct etl_err err;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    loads = frees = 0;
    fail_second = true;
    etl_err_clear(&err);
    assert_int_equal(etl_resources_load(&cfg, NULL, kinds, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, "fake refused");
    assert_int_equal(cfg.nresources, 1);
    assert_int_equal(frees, 0);
    etl_resources_free(&cfg);
    assert_int_equal(frees, 1);
    fail_second = false;
}

/* Write 'text' to a temp YAML file; its path in 'path'. */
static void
write_yaml(char path[64], const char *text)
{
    FILE *f;
    int fd;

    strcpy(path, "/tmp/ewc-test-resource.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#define PIPES "pipelines:\n  p:\n    stages:\n      - { name: f, kind: http_fetch, " \
              "urls: [\"http://127.0.0.1:1/a.csv\"] }\n"

/* The catalog resource, from the "catalog" key of a real configuration. */
static void
test_catalog_resource(void **state)
{
    char path[64], cwd[512], want[600], text[1024];
    struct etl_config *cfg;
    const struct etl_catalog *cat;
    struct etl_err err;

    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(text, sizeof(text), "catalog: %s/config/catalog\n" PIPES, cwd);
    write_yaml(path, text);
    etl_err_clear(&err);
    cfg = etl_config_load(path, &err);
    assert_non_null(cfg);
    assert_int_equal(cfg->nresources, 1);
    assert_string_equal(cfg->resources[0].name, "catalog");
    assert_ptr_equal(cfg->resources[0].kind, &etl_resource_catalog);
    snprintf(want, sizeof(want), "%s/config/catalog", cwd);
    assert_string_equal(cfg->resources[0].source, want);
    cat = etl_config_resource(cfg, ETL_CATALOG_RESOURCE);
    assert_non_null(cat);
    assert_true(cat->nregions > 30);
    assert_non_null(etl_catalog_region_code(cat, "450000"));
    /* the stages see it */
    assert_ptr_equal(etl_stage_catalog(cfg->pipelines[0]->stages[0]), cat);
    etl_config_free(cfg);
    unlink(path);
}

/* The catalog resource's errors, where the tests of the YAML expect them. */
static void
test_catalog_resource_errors(void **state)
{
    char path[64], want[128];
    struct etl_config *cfg;
    struct etl_doc *doc;
    struct etl_err err;
    char *source = NULL;

    (void)state;
    /* no "catalog" key: the key check says so, at the top mapping */
    write_yaml(path, PIPES);
    etl_err_clear(&err);
    cfg = etl_config_load(path, &err);
    assert_null(cfg);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_non_null(strstr(err.msg, "the configuration has no \"catalog\""));
    snprintf(want, sizeof(want), "%s:1:1", path);
    assert_string_equal(err.where, want);
    unlink(path);
    /* a directory that is not there: the catalog loader's I/O error */
    write_yaml(path, "catalog: /nonexistent/catalog\n" PIPES);
    etl_err_clear(&err);
    assert_null(etl_config_load(path, &err));
    assert_int_equal(err.code, ETL_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/catalog"));
    unlink(path);
    /* "catalog" of the wrong type: at the value */
    write_yaml(path, "catalog: [a, b]\n" PIPES);
    etl_err_clear(&err);
    assert_null(etl_config_load(path, &err));
    assert_int_equal(err.code, ETL_E_CONFIG);
    snprintf(want, sizeof(want), "%s:1:10", path);
    assert_string_equal(err.where, want);
    unlink(path);
    /* the loader called on an unchecked mapping without the key */
    etl_err_clear(&err);
    doc = etl_doc_parse("t.yaml", "spool: x\n", 9, &err);
    assert_non_null(doc);
    assert_null(etl_resource_catalog.load(doc->root, "t.yaml", &source, &err));
    assert_null(source);
    assert_string_equal(err.msg, "the configuration has no \"catalog\"");
    assert_string_equal(err.where, "t.yaml:1:1");
    etl_doc_free(doc);
    /* free accepts NULL */
    etl_resource_catalog.free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_load_find_free),
        cmocka_unit_test(test_load_fails),
        cmocka_unit_test(test_catalog_resource),
        cmocka_unit_test(test_catalog_resource_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
