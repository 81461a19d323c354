/*
 * graph.h
 *    Topological order of a small dependency graph given by names: each node
 *    names the nodes it needs.  Used for the stage graph of a pipeline.
 */
#ifndef ETL_GRAPH_H
#define ETL_GRAPH_H

#include <stddef.h>
#include "err.h"

struct etl_graph_node {
    const char *name;
    const char *const *needs;
    size_t nneeds;
};

/* What made a graph fail to order. */
enum etl_graph_fault {
    ETL_GRAPH_OK = 0,
    ETL_GRAPH_DUPLICATE,        /* a name used twice */
    ETL_GRAPH_UNKNOWN_NEED,     /* a need names no node */
    ETL_GRAPH_SELF_NEED,        /* a node needs itself */
    ETL_GRAPH_CYCLE,
    ETL_GRAPH_NOMEM
};

/* Where it failed, for the caller to point at. */
struct etl_graph_fail {
    enum etl_graph_fault fault;
    size_t node;                /* the node at fault (see etl_graph_order) */
    size_t need;                /* index into its needs, or ETL_GRAPH_NO_NEED */
};
#define ETL_GRAPH_NO_NEED ((size_t)-1)

/*
 * Fill 'order' (n indexes into 'nodes') so that every node comes after all
 * it needs; among ready nodes the one listed first goes first, so the order
 * is stable.  On error, *fail says what and where: DUPLICATE, the second
 * node of the name (need ETL_GRAPH_NO_NEED); UNKNOWN_NEED and SELF_NEED,
 * the node and the index of the need at fault; CYCLE, one node of the cycle
 * and its need on the cycle; NOMEM, node 0, no need.  'fail' is
 * {ETL_GRAPH_OK, 0, ETL_GRAPH_NO_NEED} on success.  Errors (ETL_E_CONFIG):
 * 'stage name "x" is used twice', 'unknown stage "x" in needs of "y"',
 * 'stage "x" needs itself', 'stages "a" -> "b" -> "a" form a cycle'.
 * O(n^2 + edges), for small n.
 */
int etl_graph_order(const struct etl_graph_node *nodes, size_t n, size_t *order,
                    struct etl_graph_fail *fail, struct etl_err *err) ETL_MUSTCHECK;

/* Index of the node called 'name', or -1. */
long etl_graph_find(const struct etl_graph_node *nodes, size_t n, const char *name);

#endif
