/*
 * test_graph.c
 *    Topological order and the graph's errors, as messages and as data.
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
    size_t order[5];
    struct etl_graph_fail bad = { ETL_GRAPH_CYCLE, 7, 7 };
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_graph_order(g, 5, order, &bad, &err), 0);
    assert_int_equal(bad.fault, ETL_GRAPH_OK);
    assert_int_equal(bad.need, ETL_GRAPH_NO_NEED);
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
    size_t order[3];
    struct etl_graph_fail bad;
    struct etl_err err;

    (void)state;
    etl_err_clear(&err);
    assert_int_equal(etl_graph_order(g, 3, order, &bad, &err), 0);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
}

/* The order fails with 'msg' and, as data, 'fault' at node 'node', need 'need'. */
static void
expect_error(const struct etl_graph_node *g, size_t n, const char *msg,
             enum etl_graph_fault fault, size_t node, size_t need)
{
    size_t order[8];
    struct etl_graph_fail bad = { ETL_GRAPH_OK, 99, 99 };
    struct etl_err err;

    etl_err_clear(&err);
    assert_int_equal(etl_graph_order(g, n, order, &bad, &err), -1);
    assert_int_equal(err.code, ETL_E_CONFIG);
    assert_string_equal(err.msg, msg);
    assert_int_equal(bad.fault, fault);
    assert_int_equal(bad.node, node);
    assert_int_equal(bad.need, need);
}

static void
test_errors(void **state)
{
    const struct etl_graph_node cycle[] = {
        ROOT("fetch"), N("a", "fetch", "c"), N("b", "a"), N("c", "b"),
    };
    const struct etl_graph_node cycle2[] = {
        ROOT("fetch"), N("a", "fetch", "b"), N("b", "fetch", "x", "a"), ROOT("x"),
    };
    const struct etl_graph_node unknown[] = { ROOT("fetch"), N("parse", "fetch", "fetc") };
    const struct etl_graph_node self[] = { ROOT("fetch"), N("x", "fetch", "x") };
    const struct etl_graph_node twice[] = { ROOT("x"), ROOT("x") };
    const struct etl_graph_node twice3[] = { ROOT("x"), ROOT("y"), N("x", "y") };

    (void)state;
    /* b needs a (need 0), which closes the cycle */
    expect_error(cycle, 4, "stages \"b\" -> \"c\" -> \"a\" -> \"b\" form a cycle",
                 ETL_GRAPH_CYCLE, 2, 0);
    /* b's need "a" is its third */
    expect_error(cycle2, 4, "stages \"b\" -> \"a\" -> \"b\" form a cycle",
                 ETL_GRAPH_CYCLE, 2, 2);
    expect_error(unknown, 2, "unknown stage \"fetc\" in needs of \"parse\"",
                 ETL_GRAPH_UNKNOWN_NEED, 1, 1);
    expect_error(self, 2, "stage \"x\" needs itself", ETL_GRAPH_SELF_NEED, 1, 1);
    expect_error(twice, 2, "stage name \"x\" is used twice", ETL_GRAPH_DUPLICATE, 1,
                 ETL_GRAPH_NO_NEED);
    expect_error(twice3, 3, "stage name \"x\" is used twice", ETL_GRAPH_DUPLICATE, 2,
                 ETL_GRAPH_NO_NEED);
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
