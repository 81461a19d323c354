/*
 * graph.c
 *    Kahn's algorithm over named nodes; on a cycle, walk the remaining nodes
 *    to name one cycle in the error.  See graph.h.
 */
#include "graph.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* See graph.h. */
long
etl_graph_find(const struct etl_graph_node *nodes, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(nodes[i].name, name) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* Fill *fail; returns -1. */
static int
fail_at(struct etl_graph_fail *fail, enum etl_graph_fault fault, size_t node, size_t need)
{
    fail->fault = fault;
    fail->node = node;
    fail->need = need;
    return -1;
}

/* Describe one cycle among the nodes not yet placed. */
static int
cycle_error(const struct etl_graph_node *nodes, size_t n, const bool *placed,
            struct etl_graph_fail *fail, struct etl_err *err)
{
    size_t *path = calloc(n + 1, sizeof(*path));
    bool *seen = calloc(n, sizeof(*seen));
    struct etl_buf text;
    struct etl_err ignore;
    size_t len = 0, cur = 0, start = 0;

    if (path == NULL || seen == NULL) {
        free(path);
        free(seen);
        etl_err_nomem(err);
        return fail_at(fail, ETL_GRAPH_NOMEM, 0, ETL_GRAPH_NO_NEED);
    }
    while (cur < n && placed[cur]) {
        cur++;
    }
    /* follow unplaced needs until a node repeats: that closes a cycle */
    while (!seen[cur]) {
        seen[cur] = true;
        path[len++] = cur;
        for (size_t k = 0; k < nodes[cur].nneeds; k++) {
            long j = etl_graph_find(nodes, n, nodes[cur].needs[k]);

            if (j >= 0 && !placed[j]) {
                cur = (size_t)j;
                break;
            }
        }
    }
    while (path[start] != cur) {
        start++;
    }
    /* the last node of the path, and its need that closes the cycle */
    fail_at(fail, ETL_GRAPH_CYCLE, path[len - 1], ETL_GRAPH_NO_NEED);
    for (size_t k = 0; k < nodes[path[len - 1]].nneeds; k++) {
        if (strcmp(nodes[path[len - 1]].needs[k], nodes[cur].name) == 0) {
            fail->need = k;
            break;
        }
    }
    etl_err_clear(&ignore);
    etl_buf_init(&text, 400);
    /* a needs b: print in flow order, b -> a */
    for (size_t i = len; i > start; i--) {
        if (etl_buf_printf(&text, &ignore, "\"%s\" -> ", nodes[path[i - 1]].name) < 0) {
            break;
        }
    }
    if (etl_buf_printf(&text, &ignore, "\"%s\"", nodes[path[len - 1]].name) < 0) {
        /* out of memory: the message is shorter */
    }
    etl_err_set(err, ETL_E_CONFIG, "stages %s form a cycle", text.data != NULL ? text.data : "");
    etl_buf_free(&text);
    free(path);
    free(seen);
    return -1;
}

int
etl_graph_order(const struct etl_graph_node *nodes, size_t n, size_t *order,
                struct etl_graph_fail *fail, struct etl_err *err)
{
    bool *placed;
    size_t done = 0;
    int rc = 0;

    fail_at(fail, ETL_GRAPH_OK, 0, ETL_GRAPH_NO_NEED);
    for (size_t i = 0; i < n; i++) {
        if (etl_graph_find(nodes, i, nodes[i].name) >= 0) {
            etl_err_set(err, ETL_E_CONFIG, "stage name \"%s\" is used twice", nodes[i].name);
            return fail_at(fail, ETL_GRAPH_DUPLICATE, i, ETL_GRAPH_NO_NEED);
        }
        for (size_t k = 0; k < nodes[i].nneeds; k++) {
            if (strcmp(nodes[i].needs[k], nodes[i].name) == 0) {
                etl_err_set(err, ETL_E_CONFIG, "stage \"%s\" needs itself", nodes[i].name);
                return fail_at(fail, ETL_GRAPH_SELF_NEED, i, k);
            }
            if (etl_graph_find(nodes, n, nodes[i].needs[k]) < 0) {
                etl_err_set(err, ETL_E_CONFIG, "unknown stage \"%s\" in needs of \"%s\"",
                            nodes[i].needs[k], nodes[i].name);
                return fail_at(fail, ETL_GRAPH_UNKNOWN_NEED, i, k);
            }
        }
    }
    placed = calloc(n ? n : 1, sizeof(*placed));
    if (placed == NULL) {
        etl_err_nomem(err);
        return fail_at(fail, ETL_GRAPH_NOMEM, 0, ETL_GRAPH_NO_NEED);
    }
    while (done < n) {
        bool progress = false;

        for (size_t i = 0; i < n; i++) {
            bool ready = !placed[i];

            for (size_t k = 0; ready && k < nodes[i].nneeds; k++) {
                ready = placed[etl_graph_find(nodes, n, nodes[i].needs[k])];
            }
            if (ready) {
                placed[i] = true;
                order[done++] = i;
                progress = true;
                break;      /* restart: keeps the listed order among ready nodes */
            }
        }
        if (!progress) {
            rc = cycle_error(nodes, n, placed, fail, err);
            break;
        }
    }
    free(placed);
    return rc;
}
