/*
 * test_pipeline_where.c
 *    Where pipeline loading points when a schedule or the stage graph is
 *    wrong (the failure comes as data from schedule.c and graph.c): a bad
 *    expression at "schedule", a bad zone at "timezone" (a bad $TZ, with no
 *    "timezone" key, at "schedule"); a name used twice at the second
 *    "name", an unknown need at the very item, a stage needing itself and a
 *    cycle at "needs".
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

#include "etl/pipeline.h"

static char yaml[64];

/*
 * Write a one-pipeline YAML: 'extra' (lines at the pipeline's level, may
 * be "") then the stages, each a flow mapping line; load it and expect
 * 'msg' at line:col of the file.
 */
static void
expect_where(const char *extra, const char *const *stages, const char *msg, unsigned line,
             unsigned col)
{
    char cwd[PATH_MAX], want[PATH_MAX + 32];
    struct etl_config *cfg;
    struct etl_err err;
    FILE *f = fopen(yaml, "w");

    assert_non_null(f);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    fprintf(f, "catalog: %s/config/catalog\nspool: /tmp\npipelines:\n  p:\n%s    stages:\n",
            cwd, extra);
    for (size_t i = 0; stages[i] != NULL; i++) {
        fprintf(f, "      - %s\n", stages[i]);
    }
    fclose(f);
    etl_err_clear(&err);
    cfg = etl_config_load(yaml, &err);
    if (cfg != NULL) {
        etl_config_free(cfg);
        fail_msg("loaded, expected \"%s\"", msg);
    }
    assert_int_equal(err.code, ETL_E_CONFIG);
    if (strstr(err.msg, msg) == NULL) {
        fail_msg("got \"%s\", expected \"%s\"", err.msg, msg);
    }
    /* the graph's errors have 'pipeline "p", ' before it */
    snprintf(want, sizeof(want), "%s:%u:%u", yaml, line, col);
    if (strlen(err.where) < strlen(want) ||
        strcmp(err.where + strlen(err.where) - strlen(want), want) != 0) {
        fail_msg("\"%s\": where \"%s\", expected it to end in \"%s\"", msg, err.where,
                 want);
    }
}

static const char *const good_stages[] = {
    "{ name: fetch, kind: http_fetch, urls: [\"http://127.0.0.1:1/a.csv\"] }",
    "{ name: parse, kind: parse_csv, needs: [fetch] }",
    NULL
};

static void
test_schedule_where(void **state)
{
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

    (void)state;
    /* line 5: schedule, 6: timezone; the value's column */
    expect_where("    schedule: \"61 * * * *\"\n    timezone: Europe/Berlin\n", good_stages,
                 "minute field: 61 is out of range (0-59)", 5, 15);
    expect_where("    schedule: \"0 3 * * *\"\n    timezone: Mars/Base\n", good_stages,
                 "unknown time zone \"Mars/Base\"", 6, 15);
    expect_where("    schedule: \"@every 0s\"\n", good_stages,
                 "\"@every\" needs a positive interval", 5, 15);
    /* no timezone key: a bad $TZ is blamed on the schedule */
    setenv("TZ", "Mars/Base", 1);
    expect_where("    schedule: \"0 3 * * *\"\n", good_stages, "unknown time zone \"Mars/Base\"",
                 5, 15);
    if (saved != NULL) {
        setenv("TZ", saved, 1);
    } else {
        unsetenv("TZ");
    }
    free(saved);
}

static void
test_graph_where(void **state)
{
    static const char *const twice[] = {
        "{ name: fetch, kind: http_fetch, urls: [\"http://127.0.0.1:1/a.csv\"] }",
        "{ name: fetch, kind: parse_csv, needs: [fetch] }",
        NULL
    };
    static const char *const unknown[] = {
        "{ name: fetch, kind: http_fetch, urls: [\"http://127.0.0.1:1/a.csv\"] }",
        "{ name: parse, kind: parse_csv, needs: [fetch, fecth] }",
        NULL
    };
    static const char *const self[] = {
        "{ name: fetch, kind: http_fetch, urls: [\"http://127.0.0.1:1/a.csv\"] }",
        "{ name: parse, kind: parse_csv, needs: [parse] }",
        NULL
    };
    static const char *const cycle[] = {
        "{ name: fetch, kind: http_fetch, urls: [\"http://127.0.0.1:1/a.csv\"] }",
        "{ name: a, kind: parse_csv, needs: [b] }",
        "{ name: b, kind: normalize, needs: [a] }",
        NULL
    };

    (void)state;
    /* stages start on line 6, "      - { name: " puts the name at column 17 */
    expect_where("", twice, "stage name \"fetch\" is used twice", 7, 17);
    /* the very item: the second of needs, column 56 */
    expect_where("", unknown, "unknown stage \"fecth\" in needs of \"parse\"", 7, 56);
    expect_where("", self, "stage \"parse\" needs itself", 7, 48);
    expect_where("", cycle, "form a cycle", 8, 44);
}

static int
setup(void **state)
{
    int fd;

    (void)state;
    snprintf(yaml, sizeof(yaml), "/tmp/test_pipeline_where.XXXXXX");
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
        cmocka_unit_test(test_schedule_where),
        cmocka_unit_test(test_graph_where),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
