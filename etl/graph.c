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

/* Describe one cycle among the nodes not yet placed. */
static int
cycle_error(const struct etl_graph_node *nodes, size_t n, const bool *placed,
            size_t *culprit, struct etl_err *err)
{
    size_t *path = calloc(n + 1, sizeof(*path));
    bool *seen = calloc(n, sizeof(*seen));
    struct etl_buf text;
    struct etl_err ignore;
    size_t len = 0, cur = 0, start = 0;

    if (path == NULL || seen == NULL) {
        free(path);
        free(seen);
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
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
    *culprit = path[len - 1];
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
                size_t *culprit, struct etl_err *err)
{
    bool *placed;
    size_t done = 0;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        *culprit = i;
        if (etl_graph_find(nodes, i, nodes[i].name) >= 0) {
            return etl_err_set(err, ETL_E_CONFIG, "stage name \"%s\" is used twice",
                               nodes[i].name);
        }
        for (size_t k = 0; k < nodes[i].nneeds; k++) {
            if (strcmp(nodes[i].needs[k], nodes[i].name) == 0) {
                return etl_err_set(err, ETL_E_CONFIG, "stage \"%s\" needs itself",
                                   nodes[i].name);
            }
            if (etl_graph_find(nodes, n, nodes[i].needs[k]) < 0) {
                return etl_err_set(err, ETL_E_CONFIG,
                                   "unknown stage \"%s\" in needs of \"%s\"",
                                   nodes[i].needs[k], nodes[i].name);
            }
        }
    }
    placed = calloc(n ? n : 1, sizeof(*placed));
    if (placed == NULL) {
        return etl_err_set(err, ETL_E_NOMEM, "out of memory");
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
            rc = cycle_error(nodes, n, placed, culprit, err);
            break;
        }
    }
    free(placed);
    return rc;
}
