/*
 * pipeline_lint.c
 *    The checks `ewc-etl check` makes besides loading the configuration
 *    (etl_config_check): a pipeline whose files or rows go nowhere (no load
 *    stage at the end of a chain), and a spool directory that cannot be
 *    written or created.  Run and the daemon do not make them: they would
 *    fail on the spool by themselves, and a chain without a sink is not
 *    refused there.  See pipeline.h.
 */
#include "pipeline.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

/* The kinds that consume 'flow' and, for rows, produce nothing, as "a, b". */
static void
consumers(enum etl_flow flow, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; etl_stage_kinds[i] != NULL; i++) {
        const struct etl_stage_kind *k = etl_stage_kinds[i];

        if (k->consumes == flow && (flow != ETL_FLOW_ROWS || k->produces == ETL_FLOW_NONE)) {
            if (out[0] != '\0') {
                etl_strlcat(out, ", ", size);
            }
            etl_strlcat(out, k->name, size);
        }
    }
}

/* Whether some stage of 'p' consumes the files of 'st' (needs it). */
static bool
files_consumed(const struct etl_pipeline *p, const struct etl_stage *st)
{
    for (size_t i = 0; i < p->nstages; i++) {
        const struct etl_stage *c = p->stages[i];

        if (c->kind->consumes == ETL_FLOW_FILE && c->nneeds == 1 &&
            strcmp(c->needs[0], st->name) == 0) {
            return true;
        }
    }
    return false;
}

int
etl_pipeline_lint(const struct etl_pipeline *p, struct etl_diags *d)
{
    size_t before = etl_diags_count(d);

    for (size_t i = 0; i < p->nstages; i++) {
        const struct etl_stage *st = p->stages[i];
        enum etl_flow out = st->kind->produces;
        struct etl_err err;
        char kinds[256];

        if ((out != ETL_FLOW_ROWS || st->next != NULL) &&
            (out != ETL_FLOW_FILE || files_consumed(p, st))) {
            continue;
        }
        etl_err_clear(&err);
        etl_node_fail(st->node, &err, ETL_E_CONFIG, "pipeline \"%s\" has no load stage: "
                      "the %s of stage \"%s\" (%s) go nowhere", p->name,
                      out == ETL_FLOW_ROWS ? "rows" : "files", st->name, st->kind->name);
        consumers(out, kinds, sizeof(kinds));
        if (kinds[0] != '\0') {
            etl_err_hint(&err, "add a stage that needs \"%s\" and %s: %s", st->name,
                         out == ETL_FLOW_ROWS ? "keeps its rows" : "reads its files", kinds);
        }
        etl_diags_add(d, &err);
    }
    return etl_diags_count(d) > before ? -1 : 0;
}

int
etl_spool_lint(const char *dir, const struct etl_node *at, struct etl_err *err)
{
    char path[PATH_MAX];
    struct stat sb;

    if (etl_strlcpy(path, dir, sizeof(path)) >= sizeof(path)) {
        return etl_node_fail(at, err, ETL_E_CONFIG, "spool directory \"%s\" is too long", dir);
    }
    /* the directory, else its nearest ancestor that exists */
    while (stat(path, &sb) != 0) {
        char *slash = strrchr(path, '/');

        if (errno != ENOENT && errno != ENOTDIR) {
            return etl_node_fail(at, err, ETL_E_CONFIG, "spool directory \"%s\" cannot be "
                                 "created: %s: %s", dir, path, strerror(errno));
        }
        if (slash == NULL) {
            etl_strlcpy(path, ".", sizeof(path));
        } else if (slash == path) {
            path[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
    if (!S_ISDIR(sb.st_mode)) {
        return etl_node_fail(at, err, ETL_E_CONFIG, "spool directory \"%s\" cannot be "
                             "created: %s is not a directory", dir, path);
    }
    if (access(path, W_OK | X_OK) != 0 && strcmp(path, dir) == 0) {
        return etl_node_fail(at, err, ETL_E_CONFIG, "spool directory \"%s\" is not writable: "
                             "%s", dir, strerror(errno));
    }
    if (access(path, W_OK | X_OK) != 0) {
        return etl_node_fail(at, err, ETL_E_CONFIG, "spool directory \"%s\" cannot be "
                             "created: %s is not writable: %s", dir, path, strerror(errno));
    }
    return 0;
}
