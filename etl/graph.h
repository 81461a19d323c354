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

/*
 * Fill 'order' (n indexes into 'nodes') so that every node comes after all
 * it needs; among ready nodes the one listed first goes first, so the order
 * is stable.  On error *culprit is the index of the node at fault (the
 * second of a name used twice, the one with the bad need, one node of the
 * cycle), so the caller can point at it.  Errors (ETL_E_CONFIG): a name used twice, a need that names no
 * node ('unknown stage "x" in needs of "y"'), a node needing itself, a cycle
 * ('stages "a" -> "b" -> "a" form a cycle').  O(n^2 + edges), for small n.
 */
int etl_graph_order(const struct etl_graph_node *nodes, size_t n, size_t *order,
                    size_t *culprit, struct etl_err *err) ETL_MUSTCHECK;

/* Index of the node called 'name', or -1. */
long etl_graph_find(const struct etl_graph_node *nodes, size_t n, const char *name);

#endif
