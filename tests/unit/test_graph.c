/*
 * test_graph.c
 *    Topological order and the graph's errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "etl/graph.h"

#define N(name, ...) { name, (const char *const[]){ __VA_ARGS__ }, \
        sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *) }
#define ROOT(name) { name, NULL, 0 }

static void
test_order(void **state)
{
    /* listed out of order: load needs validate needs parse needs fetch */
    const struct etl_graph_node g[] = {
        N("load", "validate"), N("validate", "parse"), ROOT("fetch"), N("parse", "fetch"),
        N("report", "load", "fetch"),
    };
    size_t order[5], bad;
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_graph_order(g, 5, order, &bad, &err), 0);
    assert_string_equal(g[order[0]].name, "fetch");
    assert_string_equal(g[order[1]].name, "parse");
    assert_string_equal(g[order[2]].name, "validate");
    assert_string_equal(g[order[3]].name, "load");
    assert_string_equal(g[order[4]].name, "report");
}

static void
test_stable_among_ready(void **state)
{
    const struct etl_graph_node g[] = { ROOT("b"), ROOT("a"), N("c", "a") };
    size_t order[3], bad;
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_graph_order(g, 3, order, &bad, &err), 0);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
}

static void
expect_error(const struct etl_graph_node *g, size_t n, const char *msg, size_t culprit)
{
    size_t order[8], bad = 99;
    struct etl_err err;

    etl_err_clear(&err);
    assert_int_equal(etl_graph_order(g, n, order, &bad, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, msg);
    assert_int_equal(bad, culprit);
}

static void
test_errors(void **state)
{
    const struct etl_graph_node cycle[] = {
        ROOT("fetch"), N("a", "fetch", "c"), N("b", "a"), N("c", "b"),
    };
    const struct etl_graph_node unknown[] = { ROOT("fetch"), N("parse", "fetc") };
    const struct etl_graph_node self[] = { N("x", "x") };
    const struct etl_graph_node twice[] = { ROOT("x"), ROOT("x") };

    (void)state;
    expect_error(cycle, 4, "stages \"b\" -> \"c\" -> \"a\" -> \"b\" form a cycle", 2);
    expect_error(unknown, 2, "unknown stage \"fetc\" in needs of \"parse\"", 1);
    expect_error(self, 1, "stage \"x\" needs itself", 0);
    expect_error(twice, 2, "stage name \"x\" is used twice", 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_stable_among_ready),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
